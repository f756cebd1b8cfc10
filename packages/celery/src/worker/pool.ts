/**
 * The async pool: `concurrency` task runs in flight on the event loop at once; the rest wait in
 * line in arrival order. A run that ends (or is abandoned at its hard time limit) frees its slot.
 */

/** Runs keyed jobs with at most `concurrency` of them in flight. */
export class AsyncPool {
  private active = 0
  private readonly waiting: Array<{ key: string; job: () => Promise<void> }> = []
  private idleWaiters: Array<() => void> = []

  constructor(public concurrency: number) {}

  /** Jobs running now. */
  get running(): number {
    return this.active
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.waiting.length
  }

  /** Starts `job` when a slot is free. */
  submit(key: string, job: () => Promise<void>): void {
    this.waiting.push({ key, job })
    this.next()
  }

  /** Forgets the jobs still waiting (a shutdown gives their messages back); returns their keys. */
  drop(): string[] {
    return this.waiting.splice(0).map((w) => w.key)
  }

  /** Resolves when nothing runs or waits. */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve()
    return new Promise((r) => this.idleWaiters.push(r))
  }

  private next(): void {
    while (this.active < this.concurrency && this.waiting.length) {
      const { job } = this.waiting.shift()!
      this.active++
      void job()
        .catch(() => {})
        .finally(() => {
          this.active--
          this.next()
          if (this.active === 0 && this.waiting.length === 0) {
            for (const w of this.idleWaiters.splice(0)) w()
          }
        })
    }
  }
}
