/**
 * Precise invalidation of an update that moves a row's foreign key (a post to another author). Its old value is
 * otherwise unknown, so every predicate of a scheme with that key would be bumped: every author's post list and
 * count. Instead the key's old value is read first and the update is made conditional on it (`AND: [{ authorId:
 * old }]`): if it succeeds, the row held exactly that value when the update changed it, in the same statement, so
 * the predicates of the old value and of the new one are all the row left or entered. If another write moved the
 * key in between, the conditional update finds nothing and the update runs as it was asked, bumping the schemes
 * whole. Only where the update is one statement (a database with RETURNING, scalar data, no transaction): a
 * conditional update in several statements could change a row that moved between them. Depends on the schema and
 * the write only (design invariant 15).
 */
import type { Args } from '../args'
import type { Engine } from '../engine'
import { isNotFoundError } from '../read/not-found'
import type { ModelInfo } from '../schema/model-graph'
import type { WriteEffect } from './affected-models'
import type { WriteParams } from './write-params'

function isObject(value: unknown): value is Args {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The foreign-key fields of `info` that the update sets, when it can be made conditional on their old values. */
function movedKeys(engine: Engine, info: ModelInfo, params: WriteParams, effect: WriteEffect): string[] {
  const args = params.args
  if (
    params.operation !== 'update' ||
    params.__internalParams?.transaction !== undefined ||
    engine.provider === 'mysql' ||
    !isObject(args) ||
    !isObject(args.where) ||
    !isObject(args.data) ||
    !Object.keys(args.data).every((key) => info.scalars.has(key))
  ) {
    return []
  }
  const keys = new Set<string>()
  for (const fks of engine.graph.foreignKeysTo?.values() ?? []) {
    for (const fk of fks) if (fk.child === info.name) for (const f of fk.fields) keys.add(f)
  }
  return [...keys].filter((f) => effect.rootFields.has(f) && info.exact.has(f))
}

/**
 * Runs the update in `sent`; returns its result and the old values of the keys it moved, or no old values when
 * they could not be known (the update then ran as asked). `earlier`: key values read before those, which another
 * write moved the row away from in between.
 */
export async function updateMovingKeys(
  engine: Engine,
  info: ModelInfo,
  params: WriteParams,
  effect: WriteEffect,
  sent: Args,
): Promise<{ result: unknown; old: Args | undefined; earlier: Args[] }> {
  const earlier: Args[] = []
  const moved = movedKeys(engine, info, params, effect)
  if (moved.length === 0) return { result: await params.query(sent), old: undefined, earlier }
  const where = sent.where as Args
  const select = Object.fromEntries(moved.map((f) => [f, true]))
  const and = Array.isArray(where.AND) ? where.AND : where.AND === undefined ? [] : [where.AND]
  // A key moved by another write between the read and the update is read again: the update as asked bumps the
  // scheme whole, which makes every list and count of every parent stale (a hot row moved by two writes at once).
  // The value it moved away from is bumped too: that write may have been made outside Prisma, bumping nothing.
  for (let attempt = 0; attempt < MOVE_ATTEMPTS; attempt++) {
    // A read that fails (a query hook below cache() may throw) leaves the old values unknown: the update runs as
    // asked. What such a hook makes of the row is checked by the update itself: a wrong old value matches nothing.
    const old = (await Promise.resolve(engine.loadRow(info.name, { where, select })).catch(() => null)) as Args | null
    if (old === null) break
    const guarded = { ...sent, where: { ...where, AND: [...and, ...moved.map((f) => ({ [f]: old[f] }))] } }
    try {
      return { result: await params.query(guarded), old, earlier }
    } catch (error) {
      // The key moved since it was read (or the row went).
      if (!isNotFoundError(error)) throw error
      earlier.push(old)
    }
  }
  // The row is gone, or its key keeps moving: the update as asked, its old values unknown.
  return { result: await params.query(sent), old: undefined, earlier }
}

/** Reads of the key's old value before an update runs as asked, its old values unknown. */
const MOVE_ATTEMPTS = 3
