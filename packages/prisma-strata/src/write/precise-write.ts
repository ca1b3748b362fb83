/**
 * Precise invalidation, the write side (design invariant 11, docs/design.md): a write that names one row
 * (`create`, `update`, `upsert`, `delete`) and changes no other row of its model bumps, instead of every read of the
 * model, the predicates its row matches. The row comes back with the write's result (its exact fields are added to
 * the selection and taken out again): a new row's values for a create, the deleted row's for a delete, and for an
 * update its values after the write, which are also its values before for every field the write did not set. A
 * field the write set (or `@updatedAt`, or a key a relation operation moved) has an old value Strata does not
 * know: every predicate of a scheme with that field is bumped, through the scheme's own version. A concurrent write
 * that changed a field this one did not set bumps for itself.
 * Anything else (many rows, a write that throws, interactive transactions) bumps the model's predicate epoch, which every
 * predicate entry of the model depends on.
 */
import type { Args } from '../args'
import type { Engine } from '../engine'
import { AfterWriteError } from '../errors'
import { valueText } from '../read/predicates'
import type { ModelInfo } from '../schema/model-graph'
import { predicatesVersionName, valueHash } from '../store/keys'
import { type Kept, rowRequest } from '../store/row-request'
import type { WriteEffect } from './affected-models'
import { updateMovingKeys } from './moved-keys'
import { withFields, withoutFields } from './selected-fields'
import type { WriteParams } from './write-params'

/** Single-row writes whose row the result returns. */
const preciseOperations = new Set(['create', 'update', 'upsert', 'delete'])

/** Whether a write can bump by its row: one row of a model whose rows are followed, changing no other row of it. */
export function canWritePrecisely(engine: Engine, params: WriteParams, effect: WriteEffect): boolean {
  const model = params.model as string
  return (
    preciseOperations.has(params.operation) &&
    engine.followsRows(model) &&
    !effect.otherRows.has(model) &&
    params.__internalParams?.transaction?.kind !== 'itx'
  )
}

/**
 * Runs the write, then bumps `names` (the models it touches, the epochs of models whose other rows it changes)
 * and its row's predicates. A failed bump is reported, never thrown: the write has happened.
 */
export async function preciseWrite(
  engine: Engine,
  params: WriteParams,
  effect: WriteEffect,
  names: readonly string[],
): Promise<unknown> {
  const model = params.model as string
  const info = engine.graph.models.get(model) as ModelInfo
  const { sent, added } = withFields(engine, model, (params.args ?? {}) as Args, info.exact)
  let requests: string[] = []
  try {
    const { result, old, earlier } = await updateMovingKeys(engine, info, params, effect, sent)
    requests = rowRequestsOf(info, params.operation, effect, result, old, earlier)
    return withoutFields(result, added)
  } finally {
    // A write that threw may have committed all the same (a timeout): which row it touched is unknown.
    try {
      await engine.bump([...names, ...(requests.length > 0 ? requests : [predicatesVersionName(model)])])
    } catch (error) {
      engine.reporter.error(new AfterWriteError(error))
    }
  }
}

/** The row request of a write's result, or undefined when the result is not a row. */
export function rowRequestOf(
  info: ModelInfo,
  operation: string,
  effect: WriteEffect,
  result: unknown,
): string | undefined {
  return rowRequestsOf(info, operation, effect, result, undefined)[0]
}

/**
 * The row requests of a write's result: its row, and when the write moved keys whose old values it knows (`old`),
 * the row as it was before for those keys, and for each key value another write moved it away from meanwhile
 * (`earlier`). None when the result is not a row.
 */
export function rowRequestsOf(
  info: ModelInfo,
  operation: string,
  effect: WriteEffect,
  result: unknown,
  old: Args | undefined,
  earlier: readonly Args[] = [],
): string[] {
  if (typeof result !== 'object' || result === null) return []
  const row = result as Args
  const changed = new Set<string>()
  if (operation === 'update' || operation === 'upsert') {
    for (const field of effect.rootFields) changed.add(field)
    for (const field of info.updatedAt) changed.add(field)
  }
  for (const field of Object.keys(old ?? {})) changed.delete(field)
  // An update keeps its row where its unchanged fields put it; an upsert may have created it, and a moved key
  // takes it out of one predicate into another, unless it was set to the value it held (then it did not move). A
  // delete's row, and a moved row as it was, only leave the predicates they match.
  const moved = old !== undefined && !sameKeys(info, row, old)
  const kept: Kept = operation === 'update' && !moved ? '1' : operation === 'delete' ? 'l' : ''
  const requests = [requestOf(info, row, changed, kept)]
  if (moved) requests.push(requestOf(info, { ...row, ...old }, changed, 'l'))
  if (old !== undefined)
    for (const before of earlier) requests.push(requestOf(info, { ...row, ...before }, changed, 'l'))
  return requests
}

/** Whether every key in `old` holds the same value (as predicates compare them) in `row`. */
function sameKeys(info: ModelInfo, row: Args, old: Args): boolean {
  return Object.keys(old).every((field) => {
    const type = info.types.get(field)
    const before = valueText(type, old[field])
    return before !== undefined && before === valueText(type, row[field])
  })
}

function requestOf(info: ModelInfo, row: Args, changed: Set<string>, kept: Kept): string {
  const fields: string[] = []
  const hashes: string[] = []
  for (const field of info.exact) {
    const text = valueText(info.types.get(field), row[field])
    if (text === undefined) continue
    fields.push(field)
    hashes.push(valueHash(text))
  }
  return rowRequest({
    model: info.name,
    changed: [...changed].join(','),
    fields: fields.join(','),
    hashes: hashes.join(','),
    kept,
  })
}
