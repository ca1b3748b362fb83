/**
 * Writes inside an interactive transaction change nothing others can see until it commits, and nothing at all
 * if it rolls back. So their bumps wait here, by transaction id, until `$transaction` settles (design invariant 5, docs/design.md),
 * and so do the rows written to write-through models, which are then put (read back after the commit).
 * Nested transactions share the id of the outermost one, and so its bumps.
 */

/** A row a write in the transaction touched, to bump and put once it has settled. */
export interface PendingRow {
  model: string
  idText: string
  /** Reads the row back by its primary key. */
  where: Record<string, unknown>
}

interface Pending {
  names: Set<string>
  rows: Map<string, PendingRow>
}

export class PendingTransactions {
  private readonly byId = new Map<string, Pending>()

  open(id: string): void {
    if (!this.byId.has(id)) this.byId.set(id, { names: new Set(), rows: new Map() })
  }

  /** Whether transaction `id` was begun through Strata's `$transaction` (its bumps can wait for it). */
  isOpen(id: string): boolean {
    return this.byId.has(id)
  }

  /** Records the version names a write in transaction `id` touches; false if that transaction is not ours. */
  defer(id: string, names: readonly string[], row?: PendingRow): boolean {
    const pending = this.byId.get(id)
    if (!pending) return false
    for (const name of names) pending.names.add(name)
    if (row) pending.rows.set(`${row.model}|${row.idText}`, row)
    return true
  }

  /** Closes transaction `id`, returning what its writes touched. */
  close(id: string): { names: string[]; rows: PendingRow[] } {
    const pending = this.byId.get(id)
    this.byId.delete(id)
    return { names: pending ? [...pending.names].sort() : [], rows: pending ? [...pending.rows.values()] : [] }
  }
}
