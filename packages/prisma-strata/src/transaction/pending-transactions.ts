/**
 * Writes inside an interactive transaction change nothing others can see until it commits, and nothing at all
 * if it rolls back. So their bumps wait here, by transaction id, until `$transaction` settles (DESIGN invariant 5).
 * Nested transactions share the id of the outermost one, and so its bumps.
 */
export class PendingTransactions {
  private readonly byId = new Map<string, Set<string>>()

  open(id: string): void {
    if (!this.byId.has(id)) this.byId.set(id, new Set())
  }

  /** Records the version names a write in transaction `id` touches; false if that transaction is not ours. */
  defer(id: string, names: readonly string[]): boolean {
    const pending = this.byId.get(id)
    if (!pending) return false
    for (const name of names) pending.add(name)
    return true
  }

  /** Closes transaction `id`, returning what its writes touched. */
  close(id: string): string[] {
    const pending = this.byId.get(id)
    this.byId.delete(id)
    return pending ? [...pending].sort() : []
  }
}
