/**
 * Writes go to Prisma untouched; what they can change is bumped after they return, and also when they throw (a
 * write that timed out may still have committed). The bump is awaited before the caller gets its result: a read
 * the same process starts afterwards never sees the old value (read-your-writes).
 * Inside an interactive transaction the bump waits for the commit; in a batch transaction the write's own promise
 * settles only once the batch has committed or rolled back, so bumping then is already after the fact.
 */
import type { Args } from '../args'
import type { Engine } from '../engine'
import { AfterWriteError, SqlParserError } from '../errors'
import { movesKey, rowWrites, writeThrough } from '../write-through/row-write'
import { anyWriteEffects, writeEffects } from './affected-models'
import { canWritePrecisely, preciseWrite, rowRequestOf } from './precise-write'
import { rawSqlModels, sqlDialect, sqlText } from './raw-sql'
import { addsFields } from './selected-fields'
import type { SqlDialect } from './sql-dialect'
import { fluentWrite, type WriteParams } from './write-params'

export type { WriteParams } from './write-params'

export const writeOperations = [
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
] as const

/** A bump around a write: a failure in it is reported, never turned into the write's own failure. */
async function bumpSafely(engine: Engine, names: readonly string[]): Promise<void> {
  try {
    await engine.bump(names)
  } catch (error) {
    engine.reporter.error(new AfterWriteError(error))
  }
}

async function bumpAround(engine: Engine, params: WriteParams, names: readonly string[]): Promise<unknown> {
  const tx = params.__internalParams?.transaction
  if (tx?.kind === 'itx') {
    if (engine.transactions.defer(String(tx.id), names)) return params.query(params.args)
    // A transaction started where Strata could not see it begin: bump now, and again once it must have ended.
    await bumpSafely(engine, names)
    setTimeout(() => void bumpSafely(engine, names), 10_000).unref()
  }
  try {
    return await params.query(params.args)
  } finally {
    await bumpSafely(engine, names)
  }
}

/** Writes that change rows they do not name one by one: every row entry of a write-through model goes. */
const manyRows = new Set(['updateMany', 'updateManyAndReturn', 'deleteMany'])

export function modelWrite(engine: Engine) {
  return (params: WriteParams): Promise<unknown> => {
    const model = params.model as string
    // Query hooks added after cache() may send arguments other than these: the write may reach any connected model.
    const effect = engine.hookedAbove.models.has(model)
      ? anyWriteEffects(engine.graph, model)
      : writeEffects(engine.graph, model, params.operation, params.args as never)
    const info = engine.graph.models.get(model)
    const tx = params.__internalParams?.transaction
    const txId = tx?.kind === 'itx' ? String(tx.id) : undefined
    // What this hook's query answers may not be the row it sent for, so nothing of the row is read off it (its
    // predicates, a row to put): a fluent write answers with the related record Prisma unpacks; query hooks added
    // after cache() run inside this one and may change what is written or answered; and computed fields are added
    // after every hook, from the row this hook hands back, so a field Strata added and takes out again may be one
    // they need.
    const opaque =
      info !== undefined &&
      (fluentWrite(params) ||
        engine.extendedAbove.has(model) ||
        (engine.computedBelow?.has(model) === true &&
          addsFields(engine, model, params.args as Args, [...info.id, ...info.exact])))
    // A write to one row of a write-through model puts the new row (in an interactive transaction, once it settles).
    const put =
      engine.policies.writesThrough(model) &&
      info !== undefined &&
      rowWrites.has(params.operation) &&
      (txId === undefined || engine.transactions.isOpen(txId)) &&
      !movesKey(engine.graph, info, params.operation, params.args) &&
      !info.id.some((field) => effect.rootFields.has(field)) &&
      !opaque &&
      // The row read back below cache() carries computed fields, which may replace columns, or is what query hooks
      // there make of it: not a row to put.
      !engine.computedBelow?.has(model) &&
      !engine.rowsHookedBelow(model)
    // Rows of other models (or other rows of this one) the write changes: every row entry of theirs goes, and
    // every predicate entry (rows created by nested writes match predicates too).
    const rowsGone = new Set(effect.elsewhere)
    const predicatesGone = new Set([...effect.elsewhere, ...effect.otherRows])
    // A write naming one row bumps the predicates of that row; any other write, every predicate of its model.
    const precise = !opaque && canWritePrecisely(engine, params, effect)
    if (!precise) predicatesGone.add(model)
    if (manyRows.has(params.operation) || (rowWrites.has(params.operation) && !put)) rowsGone.add(model)
    const names = engine.namesFor(effect.models, rowsGone, predicatesGone)
    if (put) {
      const request = precise ? (result: unknown) => rowRequestOf(info, params.operation, effect, result) : undefined
      return writeThrough(engine, params, info, names, txId, request)
    }
    // Hooks added after cache() may read between the write and its bump: those reads bypass the cache meanwhile.
    if (engine.hookedAbove.models.has(model)) {
      return engine.writesInFlight.around(names, () => bumpAround(engine, params, names))
    }
    return precise ? preciseWrite(engine, params, effect, names) : bumpAround(engine, params, names)
  }
}

/** One parser per client, whichever raw method asks first; its failure to load is reported once. */
const dialects = new WeakMap<Engine, SqlDialect | undefined>()

function dialectOf(engine: Engine): SqlDialect | undefined {
  if (dialects.has(engine)) return dialects.get(engine)
  const dialect = sqlDialect(engine.provider)
  dialects.set(engine, dialect)
  void dialect?.loaded.then((cause) => {
    if (cause) engine.reporter.error(new SqlParserError(cause))
  })
  return dialect
}

/**
 * `$executeRaw*` and `$queryRaw*` alike: a statement proven to only read goes straight to Prisma; any
 * other bumps the models it can change (every model until the parser is loaded). The parser starts loading with the
 * client.
 */
export function rawWrite(engine: Engine) {
  const dialect = dialectOf(engine)
  return (params: WriteParams): PromiseLike<unknown> => {
    // A query hook added after cache() may send another statement than the one parsed here: it may change anything.
    const models = engine.hookedAbove.raw
      ? [...engine.graph.models.keys()]
      : rawSqlModels(engine.graph, dialect, sqlText(params.args, dialect?.placeholder))
    if (models.length === 0) return params.query(params.args)
    const names = engine.namesFor(models)
    if (engine.hookedAbove.raw) return engine.writesInFlight.around(names, () => bumpAround(engine, params, names))
    return bumpAround(engine, params, names)
  }
}
