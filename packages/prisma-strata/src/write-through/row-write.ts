/**
 * A write to one row of a write-through model (`update`, `upsert`, `delete` outside an interactive
 * transaction): after it returns, the row gets a new version (its entries drop everywhere, and the bus tells every
 * instance), then the whole row is read back and put into its entry under that version.
 *
 * The row is read back after the bump rather than taken from the write's own result: two writes can commit in
 * one order and bump in the other, and only a read made after a bump is sure to see every write bumped before
 * it. A put (or a fill) made under a version that a later write has moved past is refused, so an older row never
 * replaces a newer one.
 */

import type { Args } from '../args'
import type { Engine } from '../engine'
import { AfterWriteError } from '../errors'
import type { EffectivePolicy } from '../policy/policy'
import { partitionOf } from '../read/partition'
import type { ModelGraph, ModelInfo } from '../schema/model-graph'
import { predicatesVersionName, rowsVersionName } from '../store/keys'
import type { PendingRow } from '../transaction/pending-transactions'
import { withFields, withoutFields } from '../write/selected-fields'
import type { WriteParams } from '../write/write-params'
import { rowSlot, storeRow } from './row-entry'
import { idWhere, isPlainObject, rowIdText, wholeRow } from './row-target'

/** Single-row writes whose row is known once they return. */
export const rowWrites = new Set(['update', 'upsert', 'delete'])

/**
 * Whether the write can change the row's primary key (then the row it started from is not the one it returns):
 * by setting a key field, or by linking another row through a relation whose foreign key is part of the key
 * (`membership.update({ data: { user: { connect: { id: 2 } } } })` moves `userId`).
 */
export function movesKey(graph: ModelGraph, info: ModelInfo, operation: string, args: unknown): boolean {
  const data = isPlainObject(args) ? (operation === 'upsert' ? args.update : args.data) : undefined
  if (!isPlainObject(data)) return false
  for (const key in data) {
    if (data[key] === undefined) continue
    if (info.id.includes(key)) return true
    const rel = info.relations.get(key)
    if (rel === undefined) continue
    const keys = graph.foreignKeysTo?.get(rel.target)
    // Without foreign keys, any relation may hold part of the key.
    if (keys === undefined) return true
    const fk = keys.find((k) => k.child === info.name && k.childField === key)
    if (fk?.fields.some((field) => info.id.includes(field))) return true
  }
  return false
}

/**
 * Runs work that follows a write which has already returned or thrown: the write's outcome is the caller's, so
 * a failure here is reported and every row of the model is dropped instead (`fallback`), never thrown.
 */
async function afterWrite(engine: Engine, work: () => unknown, fallback: () => unknown): Promise<void> {
  try {
    await work()
  } catch (error) {
    engine.reporter.error(new AfterWriteError(error))
    try {
      await fallback()
    } catch (again) {
      engine.reporter.error(new AfterWriteError(again))
    }
  }
}

/**
 * Runs the write; then, outside a transaction, bumps `names` and puts the row. Inside an interactive transaction
 * (`txId`, one of ours), both wait for it to settle. `request`: the row request of the write's result, when its
 * model's predicates are followed by row (precise invalidation, for instances that read them).
 */
export async function writeThrough(
  engine: Engine,
  params: WriteParams,
  info: ModelInfo,
  names: string[],
  txId?: string,
  request?: (result: unknown) => string | undefined,
): Promise<unknown> {
  const model = params.model as string
  const fields = request ? new Set([...info.id, ...info.exact]) : info.id
  const { sent, added } = withFields(engine, model, (params.args ?? {}) as Args, fields)
  const everyRow = [...names, rowsVersionName(model), predicatesVersionName(model)]
  const dropEveryRow = () => (txId === undefined ? engine.bump(everyRow) : engine.transactions.defer(txId, everyRow))
  let result: unknown
  try {
    result = await params.query(sent)
  } catch (error) {
    // It may have committed all the same (a timeout): which row it touched is unknown, so every row goes.
    await afterWrite(engine, dropEveryRow, () => engine.bump(everyRow))
    throw error
  }
  await afterWrite(
    engine,
    async () => {
      const idText = rowIdText(info, result)
      const row = idText === undefined ? undefined : { model, idText, where: idWhere(info, result as Args) }
      if (txId !== undefined) engine.transactions.defer(txId, row ? names : everyRow, row)
      else if (row === undefined) await engine.bump(everyRow)
      else
        await Promise.all([
          engine.bump(request ? [...names, request(result) ?? predicatesVersionName(model)] : names),
          putRow(engine, row, params.operation === 'delete' ? 'deleted' : 'written'),
        ])
    },
    dropEveryRow,
  )
  return withoutFields(result, added)
}

/**
 * Bumps the row (dropping its entries everywhere), then reads it back and puts it under the new version. Never
 * throws: it runs after a write (or a transaction) has returned.
 */
export function putRow(engine: Engine, pending: PendingRow, change: 'written' | 'deleted' = 'written'): Promise<void> {
  return afterWrite(
    engine,
    () => bumpAndPut(engine, pending, change),
    () => engine.bump([rowsVersionName(pending.model)]),
  )
}

async function bumpAndPut(engine: Engine, pending: PendingRow, change: 'written' | 'deleted'): Promise<void> {
  const { model, idText } = pending
  const info = engine.graph.models.get(model) as ModelInfo
  const policy = engine.policies.of(model) as EffectivePolicy
  const lifetime = policy.ttlMs + Math.max(policy.swrMs, policy.graceMs)
  const version = await engine.bumpRow(model, idText, lifetime)
  if (version === undefined) {
    // Redis did not take the row's bump: drop every row of the model instead (retried until Redis has it).
    await engine.bump([rowsVersionName(model)])
    return
  }
  if (change === 'deleted') return
  const partition = engine.context ? partitionOf(engine, model, false) : undefined
  if (engine.context && partition === undefined) return
  const slot = rowSlot(model, info, idText, partition, policy)
  const versions = await engine.versions.snapshot([engine.modelVersionName(model), rowsVersionName(model)])
  if (versions === undefined) return
  let row: unknown
  try {
    row = await engine.loadRow(model, { where: pending.where, select: wholeRow(info) })
  } catch {
    return // the database failed after the write: the row's entry stays empty and the next read fills it
  }
  if (row === null || rowIdText(info, row) !== idText) return
  engine.stats.puts++
  await storeRow(engine, slot, row as Args, { row: version, model: versions[0] as number, rows: versions[1] as number })
    .stored
}
