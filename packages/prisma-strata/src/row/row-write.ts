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
import type { Engine } from '../engine'
import type { EffectivePolicy } from '../policy/policy'
import { partitionOf } from '../read/partition'
import type { ModelInfo } from '../schema/model-graph'
import { rowsVersionName } from '../store/keys'
import type { PendingRow } from '../transaction/pending-transactions'
import type { WriteParams } from '../write/write-path'
import { rowSlot, storeRow } from './row-entry'
import { idWhere, isPlainObject, rowIdText, wholeRow } from './row-target'

type Args = Record<string, unknown>

/** Single-row writes whose row is known once they return. */
export const rowWrites = new Set(['update', 'upsert', 'delete'])

/** Whether the write can change the row's primary key (then the row it started from is not the one it returns). */
export function movesKey(info: ModelInfo, operation: string, args: unknown): boolean {
  const data = isPlainObject(args) ? (operation === 'upsert' ? args.update : args.data) : undefined
  return isPlainObject(data) && info.id.some((field) => data[field] !== undefined)
}

/** The write's arguments with the primary key selected (so the row is known), and the fields added for that. */
function withKeyFields(engine: Engine, model: string, info: ModelInfo, args: Args): { sent: Args; added: string[] } {
  const added: string[] = []
  if (isPlainObject(args.select)) {
    const select: Args = { ...args.select }
    for (const field of info.id) {
      if (select[field] !== true) {
        select[field] = true
        added.push(field)
      }
    }
    return { sent: added.length ? { ...args, select } : args, added }
  }
  const omit = args.omit as Args | undefined
  const globalOmit = engine.globalOmit(model)
  let sentOmit: Args | undefined
  for (const field of info.id) {
    if ((omit?.[field] ?? globalOmit?.[field]) === true) {
      sentOmit = { ...(sentOmit ?? omit), [field]: false }
      added.push(field)
    }
  }
  return { sent: sentOmit ? { ...args, omit: sentOmit } : args, added }
}

/**
 * Runs the write; then, outside a transaction, bumps `names` and puts the row. Inside an interactive transaction
 * (`txId`, one of ours), both wait for it to settle.
 */
export async function writeThrough(
  engine: Engine,
  params: WriteParams,
  info: ModelInfo,
  names: string[],
  txId?: string,
): Promise<unknown> {
  const model = params.model as string
  const { sent, added } = withKeyFields(engine, model, info, (params.args ?? {}) as Args)
  const everyRow = [...names, rowsVersionName(model)]
  let result: unknown
  try {
    result = await params.query(sent)
  } catch (error) {
    // It may have committed all the same (a timeout): which row it touched is unknown, so every row goes.
    if (txId === undefined) await engine.bump(everyRow)
    else engine.transactions.defer(txId, everyRow)
    throw error
  }
  const idText = rowIdText(info, result)
  const row = idText === undefined ? undefined : { model, idText, where: idWhere(info, result as Args) }
  if (txId !== undefined) engine.transactions.defer(txId, row ? names : everyRow, row)
  else if (row === undefined) await engine.bump(everyRow)
  else await Promise.all([engine.bump(names), putRow(engine, row, params.operation === 'delete')])
  for (const field of added) delete (result as Args)[field]
  return result
}

/** Bumps the row (dropping its entries everywhere), then reads it back and puts it under the new version. */
export async function putRow(engine: Engine, pending: PendingRow, deleted = false): Promise<void> {
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
  if (deleted) return
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
