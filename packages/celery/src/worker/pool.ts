/**
 * The async pool: `concurrency` task runs in flight on the event loop at once; the rest wait in
 * line in arrival order. A run that ends (or is abandoned at its hard time limit) frees its slot.
 *
 * Built for the worker's hot path: a job that finishes synchronously frees its slot at once,
 * without a promise; an asynchronous one costs one `then`. Waiting jobs sit in two parallel
 * arrays (no wrapper object per job).
 */

/** What a job returns: nothing when it finished synchronously, or a promise of its end. */
export type PoolResult = Promise<void> | void

/** Runs keyed jobs with at most `concurrency` of them in flight. */
export class AsyncPool<J = () => PoolResult> {
  private active = 0
  private keys: Array<string | undefined> = []
  private jobs: Array<J | undefined> = []
  private head = 0
  private pumping = false
  private idleWaiters: Array<() => void> = []
  /** Frees the slot of an asynchronous job; one bound function for all of them. */
  private readonly release = (): void => {
    this.active--
    this.next()
  }

  /**
   * @param runner runs one job; by default a job is a function and is called. A job that throws
   * or rejects only frees its slot: reporting is the job's business.
   */
  constructor(
    public concurrency: number,
    private readonly runner: (job: J) => PoolResult = (job) => (job as () => PoolResult)(),
  ) {}

  /** Jobs running now. */
  get running(): number {
    return this.active
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.jobs.length - this.head
  }

  /** Starts `job` when a slot is free. */
  submit(key: string, job: J): void {
    if (!this.pumping && this.active < this.concurrency && this.head === this.jobs.length) {
      // A free slot and nobody in line: run it now, without queueing it.
      this.pumping = true
      try {
        this.start(job)
      } finally {
        this.pumping = false
      }
      this.next()
      return
    }
    this.keys.push(key)
    this.jobs.push(job)
    this.next()
  }

  /** Forgets the jobs still waiting (a shutdown gives their messages back); returns their keys. */
  drop(): string[] {
    const keys = this.keys.slice(this.head) as string[]
    this.keys = []
    this.jobs = []
    this.head = 0
    this.settleIdle()
    return keys
  }

  /** Resolves when nothing runs or waits. */
  idle(): Promise<void> {
    if (this.active === 0 && this.queued === 0) return Promise.resolve()
    return new Promise((r) => this.idleWaiters.push(r))
  }

  private next(): void {
    // A synchronous job may submit more: the loop already running picks them up.
    if (this.pumping) return
    this.pumping = true
    try {
      while (this.active < this.concurrency && this.head < this.jobs.length) this.start(this.take())
    } finally {
      this.pumping = false
    }
    this.settleIdle()
  }

  /** Runs a job in a slot; a synchronous one gives the slot back at once. */
  private start(job: J): void {
    this.active++
    let r: PoolResult
    try {
      r = this.runner(job)
    } catch {
      r = undefined
    }
    if (r && typeof r.then === 'function') r.then(this.release, this.release)
    else this.active--
  }

  private take(): J {
    const job = this.jobs[this.head] as J
    this.jobs[this.head] = undefined
    this.keys[this.head] = undefined
    this.head++
    // Compact now and then, so the arrays do not grow for ever under a steady flow.
    if (this.head > 1024 && this.head * 2 > this.jobs.length) {
      this.jobs = this.jobs.slice(this.head)
      this.keys = this.keys.slice(this.head)
      this.head = 0
    }
    return job
  }

  private settleIdle(): void {
    if (this.active === 0 && this.queued === 0 && this.idleWaiters.length) {
      for (const w of this.idleWaiters.splice(0)) w()
    }
  }
}
