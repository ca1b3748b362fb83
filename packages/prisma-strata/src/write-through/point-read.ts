/**
 * Point reads of write-through models, served from per-row entries through the tiered read (row-entry-kind.ts).
 * A read by another unique key (`email`) finds the row through an alias, a hint checked against the row itself:
 * a row that no longer has that key value does not answer. Without an alias the read is an ordinary cached read
 * that learns the alias.
 */
import type { Engine } from '../engine'
import { cachedRead } from '../read/query-entry'
import type { ReadCall } from '../read/read-call'
import { tieredRead } from '../read/tiered-read'
import type { ModelInfo } from '../schema/model-graph'
import type { Budget } from '../store/turn-batch'
import { aliasText, rowSlot, setAlias } from './row-entry'
import { RowEntry } from './row-entry-kind'
import { project, type RowTarget, rowIdText, rowTarget, wholeRow } from './row-target'

type Row = Record<string, unknown>

/** The read served from a row entry, or undefined when it is not a point read of a write-through model. */
export function pointRead(engine: Engine, call: ReadCall): Promise<unknown> | undefined {
  if (!call.policy.writeThrough || (call.operation !== 'findUnique' && call.operation !== 'findUniqueOrThrow')) {
    return undefined
  }
  // Per-query options (key, tags, ttl, swr) name an entry of their own: an ordinary cached read.
  if (call.query !== undefined && Object.values(call.query).some((v) => v !== undefined)) return undefined
  // Rows read through query hooks below cache() are theirs, not the table's: ordinary cached reads.
  if (engine.rowsHookedBelow(call.model)) return undefined
  const info = engine.graph.models.get(call.model)
  const target = info && rowTarget(info, call.args)
  if (!info || !target) return undefined
  const idText = target.idText ?? localAlias(engine, call, target)
  if (idText !== undefined) return rowRead(engine, call, info, target, idText)
  return aliasedRead(engine, call, info, target)
}

function rowRead(engine: Engine, call: ReadCall, info: ModelInfo, target: RowTarget, idText: string) {
  return tieredRead(
    engine,
    new RowEntry(engine, call, rowSlot(call.model, info, idText, call.partition, call.policy), target),
  )
}

/** A read by a unique key this process has no alias for: Redis may have one; else the read learns it. */
async function aliasedRead(engine: Engine, call: ReadCall, info: ModelInfo, target: RowTarget): Promise<unknown> {
  const budget = engine.budget()
  const idText = await redisAlias(engine, call, target, budget)
  if (idText !== undefined) return rowRead(engine, call, info, target, idText)
  return learnAlias(engine, call, info, target)
}

function localAlias(engine: Engine, call: ReadCall, target: RowTarget): string | undefined {
  const text = aliasText(call.model, call.partition, target.uniqueText as string)
  return engine.local?.get(text)?.value as string | undefined
}

async function redisAlias(
  engine: Engine,
  call: ReadCall,
  target: RowTarget,
  budget: Budget,
): Promise<string | undefined> {
  if (!engine.rows) return undefined
  const text = aliasText(call.model, call.partition, target.uniqueText as string)
  return engine.rows.alias(call.model, text, budget)
}

/**
 * A read by a unique key no alias knows yet: an ordinary cached read (so "no such row" is cached too), whose
 * database query reads the whole row and records which row has that key.
 */
function learnAlias(engine: Engine, call: ReadCall, info: ModelInfo, target: RowTarget): Promise<unknown> {
  const { model, operation, args, query, partition, policy } = call
  return cachedRead(engine, {
    model,
    operation,
    args,
    query,
    partition,
    policy,
    execute: async () => {
      const row = (await engine.loadRow(model, { where: args?.where, select: wholeRow(info) })) as Row | null
      const rowId = row === null ? undefined : rowIdText(info, row)
      if (rowId !== undefined) setAlias(engine, call, target.uniqueText as string, rowId)
      return row === null ? null : project(row, args, engine.globalOmit(model))
    },
  })
}
