/**
 * Strata's `$transaction`, installed on the extended client (and so on its transaction clients):
 * - callback form: runs Prisma's own, then bumps what the transaction's writes touched, after it settles: after
 *   commit, and also after a failure, since a commit that timed out may have landed;
 * - array form: Prisma's own; each item is a lazy read or write that knows how to join the batch (reads never
 *   answer from the cache there, writes bump when the batch has settled).
 * Prisma's implementation is called with the extended client as `this`, so the transaction client it hands to the
 * callback carries this extension too.
 */

import { belowStrata } from '../below-strata'
import type { Engine } from '../engine'
import { putRow } from '../write-through/row-write'

/** Prisma marks its interactive transaction clients with this symbol (Prisma 7). */
export const TX_SCOPE = Symbol.for('prisma.client.transaction.scope_context')

type TransactionFn = (this: unknown, input: unknown, options?: unknown) => Promise<unknown>

interface ClientLike {
  $parent: { $transaction: TransactionFn }
  [TX_SCOPE]?: { txId: string }
}

/**
 * `adopt(tx, client)` is told of each interactive transaction's client and of the client it was opened on (reads
 * through `tx` are reads of that client: extensions added after cache() apply to them too).
 */
export function transactionOverride(engine: Engine, adopt: (tx: object, client: object) => void) {
  return function $transaction(this: ClientLike, input: unknown, options?: unknown): Promise<unknown> {
    const prismaTransaction = belowStrata(
      this.$parent as never,
      (layer) => layer.$transaction as TransactionFn,
      $transaction as TransactionFn,
    ).value
    // Batches pass through; so do the writes of a transaction nested in one of ours (they defer to the outermost).
    if (typeof input !== 'function') return prismaTransaction.call(this, input, options)
    const nested = this[TX_SCOPE] !== undefined
    let id: string | undefined
    const callback = (tx: ClientLike) => {
      adopt(tx, this)
      id = nested ? undefined : tx[TX_SCOPE]?.txId
      if (id) engine.transactions.open(id)
      return (input as (tx: unknown) => unknown)(tx)
    }
    const settle = () => {
      if (!id) return undefined
      const { names, rows } = engine.transactions.close(id)
      return Promise.all([engine.bump(names), ...rows.map((row) => putRow(engine, row))])
    }
    return prismaTransaction.call(this, callback, options).finally(settle)
  }
}
