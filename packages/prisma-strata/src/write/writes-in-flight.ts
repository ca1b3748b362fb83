/**
 * Version names of the writes under way whose query hooks added after cache() run inside Strata's write hook
 * (write-path.ts): code there may read after the database wrote and before Strata's bump, when the cache still holds
 * what the write changed. Reads that depend on such a name go to the database, uncached, until the bump is done.
 */
export class WritesInFlight {
  private readonly held = new Map<string, number>()

  /** Whether any is under way: the one check a read makes while none is. */
  get any(): boolean {
    return this.held.size > 0
  }

  touches(deps: readonly string[]): boolean {
    for (const name of deps) if (this.held.has(name)) return true
    return false
  }

  /** Runs `write` (the write and its bump) with `names` held. */
  async around<T>(names: readonly string[], write: () => PromiseLike<T>): Promise<T> {
    for (const name of names) this.held.set(name, (this.held.get(name) ?? 0) + 1)
    try {
      return await write()
    } finally {
      for (const name of names) {
        const left = (this.held.get(name) ?? 1) - 1
        if (left === 0) this.held.delete(name)
        else this.held.set(name, left)
      }
    }
  }
}
