/**
 * The ids a worker has been told to revoke, remembered for a while (Celery: at most 50,000 ids,
 * 3 hours), oldest forgotten first.
 */

/** A set of ids that forgets them after `expires` seconds, or beyond `max` entries. */
export class RevokedSet {
  private readonly ids = new Map<string, number>()

  constructor(
    private readonly max = 50_000,
    private readonly expires = 10_800,
    private readonly now: () => number = () => Date.now(),
  ) {}

  add(id: string): void {
    this.ids.delete(id)
    this.ids.set(id, this.now() + this.expires * 1000)
    while (this.ids.size > this.max) this.ids.delete(this.ids.keys().next().value as string)
  }

  has(id: string): boolean {
    // Checked twice per task on the hot path; most workers never revoke anything.
    if (this.ids.size === 0) return false
    const at = this.ids.get(id)
    if (at === undefined) return false
    if (at <= this.now()) {
      this.ids.delete(id)
      return false
    }
    return true
  }

  /** The live ids, oldest first. */
  list(): string[] {
    return [...this.ids.keys()].filter((id) => this.has(id))
  }

  get size(): number {
    return this.ids.size
  }
}
