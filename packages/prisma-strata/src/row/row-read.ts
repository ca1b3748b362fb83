/**
 * Point reads of write-through models, served from per-row entries:
 * 1. a local row entry whose versions are all current answers, projected to the read's selection;
 * 2. otherwise the model's versions are snapshotted, and one script reads the row's version and its entry from
 *    Redis at once; an entry that is current answers;
 * 3. otherwise the whole row is read (the read's own `where`, every scalar field) and stored under the versions
 *    read before the SQL. A later write's put cannot be replaced by it (see row-entry.ts).
 * A read by another unique key (`email`) finds the row through an alias, a hint checked against the row itself:
 * a row that no longer has that key value does not answer. Without an alias the read is an ordinary cached read
 * that learns the alias.
 */
import type { Engine } from '../engine'
import { answer, EXPIRED, FRESH, freshness, type Outcome, type ReadCall, STALE } from '../read/read-call'
import { cachedRead, hit, readEntry } from '../read/read-path'
import { refreshOnce } from '../read/refresh'
import { isRecord } from '../read/result-shape'
import type { ModelInfo } from '../schema/model-graph'
import type { StoredEntry } from '../store/codec'
import { rowsVersionName } from '../store/keys'
import { HELD_ELSEWHERE, STOP } from '../store/leases'
import type { Budget } from '../store/turn-batch'
import { aliasText, type RowSlot, type RowVersions, rowSlot, storeAlias, storeRow } from './row-entry'
import { project, type RowTarget, rowHasKey, rowIdText, rowTarget, wholeRow } from './row-target'

type Row = Record<string, unknown>

/** The read served from a row entry, or undefined when it is not a point read of a write-through model. */
export function pointRead(engine: Engine, call: ReadCall): Promise<unknown> | undefined {
  if (!call.policy.writeThrough || (call.operation !== 'findUnique' && call.operation !== 'findUniqueOrThrow')) {
    return undefined
  }
  // Per-query options (key, tags, ttl, swr) name an entry of their own: an ordinary cached read.
  if (call.query !== undefined && Object.values(call.query).some((v) => v !== undefined)) return undefined
  const info = engine.graph.models.get(call.model)
  const target = info && rowTarget(info, call.args)
  return target && rowRead(engine, call, info, target)
}

function rowRead(engine: Engine, call: ReadCall, info: ModelInfo, target: RowTarget): Promise<unknown> {
  const idText = target.idText ?? localAlias(engine, call, target)
  if (idText !== undefined) {
    const slot = rowSlot(call.model, info, idText, call.partition, call.policy)
    const local = engine.local?.get(slot.text)
    if (local !== undefined && engine.versions.matches(local.deps, local.versions)) {
      const age = freshness(local.times)
      if (age !== EXPIRED && answers(info, local.value, target)) {
        try {
          return Promise.resolve(served(engine, call, slot, target, local.value as Row | null, 'local', age))
        } catch (error) {
          return Promise.reject(error)
        }
      }
    }
  }
  return slowRowRead(engine, call, info, target, idText)
}

/** A row answers a read by id as is (even "no such row"); a read by another unique key only if it has the key. */
function answers(info: ModelInfo, row: unknown, target: RowTarget): boolean {
  return target.idText !== undefined || (row !== null && rowHasKey(info, row, target))
}

/** A hit: counted, refreshed in the background if stale, told to `onHit`, and projected for the caller. */
function served(
  engine: Engine,
  call: ReadCall,
  slot: RowSlot,
  target: RowTarget,
  row: Row | null,
  tier: 'local' | 'redis',
  age: number,
  started?: number,
): unknown {
  const counters = engine.stats.of(call.model, call.operation)
  if (tier === 'local') counters.localHits++
  else counters.redisHits++
  if (age === STALE) {
    counters.stale++
    refreshRow(engine, call, slot, target)
  }
  if (engine.hooks.onHit) {
    hit(engine, call, tier, age === STALE, started === undefined ? undefined : performance.now() - started)
  }
  return answerRow(engine, call, row)
}

function answerRow(engine: Engine, call: ReadCall, row: Row | null): unknown {
  return answer(call, row === null ? null : project(row, call.args, engine.globalOmit(call.model)))
}

async function slowRowRead(
  engine: Engine,
  call: ReadCall,
  info: ModelInfo,
  target: RowTarget,
  knownId: string | undefined,
): Promise<unknown> {
  const started = performance.now()
  const budget = { deadline: started + (engine.redis?.timeoutMs ?? 0) }
  const counters = engine.stats.of(call.model, call.operation)
  const idText = knownId ?? (await redisAlias(engine, call, target, budget))
  if (idText === undefined) return learnAlias(engine, call, info, target)
  const slot = rowSlot(call.model, info, idText, call.partition, call.policy)
  const snapshot = await rowSnapshot(engine, slot, budget)
  if (snapshot === undefined) return uncachedRowRead(engine, call, slot, target, started)
  const { versions, frame } = snapshot
  let grace: Row | null | undefined
  const local = engine.local?.get(slot.text)
  if (local?.deps.every((d, i) => versionOf(slot, d, versions) === local.versions[i])) {
    const age = freshness(local.times)
    if (age !== EXPIRED && answers(info, local.value, target)) {
      return served(engine, call, slot, target, local.value as Row | null, 'local', age)
    }
    if (age === EXPIRED && answers(info, local.value, target)) grace = local.value as Row | null
  }
  const found = frame && (await fromRedis(engine, slot, frame, versions, budget.deadline))
  if (found) {
    const age = freshness(found.times)
    if (age !== EXPIRED && answers(info, found.row, target)) {
      return served(engine, call, slot, target, found.row, 'redis', age, started)
    }
    if (age === EXPIRED && answers(info, found.row, target)) grace ??= found.row
  }
  const flightKey = `${slot.text}|${target.uniqueText ?? ''}`
  const stamp = `${versions.row},${versions.rows},${versions.model}`
  const waiting = engine.flights.join(flightKey, rowDeps(engine, slot), stamp, started)
  if (waiting) {
    const outcome = await waiting
    counters.coalesced++
    return answerRow(engine, call, outcome.master as Row | null)
  }
  const outcome = await engine.flights.start(
    flightKey,
    stamp,
    leasedFill(engine, call, { slot, target, versions, grace }, budget.deadline),
  )
  if (outcome.fromRedis) {
    counters.redisHits++
    if (engine.hooks.onHit) hit(engine, call, 'redis', false, performance.now() - started)
  } else if (outcome.stale) counters.stale++
  else counters.misses++
  return answerRow(engine, call, outcome.master as Row | null)
}

/** The version names a row entry depends on: a write to one of them ends this process's sharing of older reads. */
function rowDeps(engine: Engine, slot: RowSlot): string[] {
  return [engine.modelVersionName(slot.model), rowsVersionName(slot.model), slot.rowName]
}

/**
 * A point read Redis gave no versions for: identical ones still share one read of the row, but nothing is
 * stored (no snapshot to store it under) and no alias is learned.
 */
async function uncachedRowRead(
  engine: Engine,
  call: ReadCall,
  slot: RowSlot,
  target: RowTarget,
  began: number,
): Promise<unknown> {
  const counters = engine.stats.of(call.model, call.operation)
  const flightKey = `${slot.text}|${target.uniqueText ?? ''}`
  const waiting = engine.flights.join(flightKey, rowDeps(engine, slot), undefined, began)
  if (waiting) {
    const outcome = await waiting
    counters.coalesced++
    return answerRow(engine, call, outcome.master as Row | null)
  }
  const load = async (): Promise<Outcome> => {
    const started = performance.now()
    const row = (await engine.loadRow(call.model, {
      where: call.args?.where,
      select: wholeRow(slot.info),
    })) as Row | null
    const onMiss = engine.hooks.onMiss
    if (onMiss)
      engine.hook(onMiss, { model: call.model, operation: call.operation, durationMs: performance.now() - started })
    return { value: row, master: row, cached: false }
  }
  const outcome = await engine.flights.start(flightKey, undefined, load())
  counters.misses++
  return answerRow(engine, call, outcome.master as Row | null)
}

/** A row read that missed: which row, under which versions, and an expired row to serve if the database fails. */
interface RowMiss {
  slot: RowSlot
  target: RowTarget
  versions: RowVersions
  grace: Row | null | undefined
}

/**
 * With `lease`, one instance fills a missing row while the others wait (up to `lease.wait`) for its entry. No
 * version check is needed at the store: the row's put is refused anyway if a write moved the row meanwhile.
 */
async function leasedFill(engine: Engine, call: ReadCall, miss: RowMiss, deadline: number): Promise<Outcome> {
  const { leases, rows } = engine
  const { slot, target, versions } = miss
  if (!leases || !rows) return fillRow(engine, call, miss)
  const lease = await leases.acquire(slot.text, deadline)
  if (typeof lease === 'string') {
    const outcome = await fillRow(engine, call, miss).catch((error) => {
      void leases.release(slot.text, lease)
      throw error
    })
    engine.inBackground((outcome.stored ?? Promise.resolve()).then(() => leases.release(slot.text, lease)))
    return outcome
  }
  if (lease === HELD_ELSEWHERE) {
    const filled = await leases.waitFor(async (until) => {
      const reply = await rows.read(slot.model, slot.idText, slot.field, 1000, { deadline: until })
      if (reply === undefined || reply.version !== versions.row) return STOP // Redis away, or a write moved the row
      const found = reply.frame && (await fromRedis(engine, slot, reply.frame, versions, until))
      return found && freshness(found.times) === FRESH && answers(slot.info, found.row, target) ? found : undefined
    })
    if (filled) return { value: filled.row, master: filled.row, cached: true, fromRedis: true }
  }
  return fillRow(engine, call, miss)
}

/**
 * Reads the whole row with the read's own `where`: its answer is the read's answer. It is stored only if it is the
 * row the snapshot was taken of (a read by id that found nothing stores "no such row"); a read through an alias
 * that found another row, or none, corrects or leaves the alias.
 */
async function fillRow(
  engine: Engine,
  call: ReadCall,
  { slot, target, versions, grace }: RowMiss,
): Promise<Outcome & { stored?: Promise<unknown> }> {
  const started = performance.now()
  let row: Row | null
  try {
    row = (await engine.loadRow(call.model, { where: call.args?.where, select: wholeRow(slot.info) })) as Row | null
  } catch (error) {
    if (grace === undefined) throw error
    return { value: grace, master: grace, cached: true, stale: true }
  }
  const onMiss = engine.hooks.onMiss
  if (onMiss)
    engine.hook(onMiss, { model: call.model, operation: call.operation, durationMs: performance.now() - started })
  const rowId = row === null ? undefined : rowIdText(slot.info, row)
  let stored: Promise<unknown> | undefined
  if (row === null ? target.idText !== undefined : rowId === slot.idText) {
    engine.stats.fills++
    stored = storeRow(engine, slot, row, versions).stored
    engine.inBackground(stored)
  } else if (target.uniqueText !== undefined) {
    // The alias led to a row that no longer has this key: point it at the row that has it, or drop it.
    if (rowId !== undefined) setAlias(engine, call, target.uniqueText, rowId)
    else dropAlias(engine, call, target.uniqueText)
  }
  return { value: row, master: row, cached: false, stored }
}

/** The versions a row entry is checked against: the model's, the row epoch's, and the row's own (from Redis). */
async function rowSnapshot(
  engine: Engine,
  slot: RowSlot,
  budget: Budget,
): Promise<{ versions: RowVersions; frame: Buffer | undefined } | undefined> {
  const names = [engine.modelVersionName(slot.model), rowsVersionName(slot.model)]
  const epoch = engine.versions.currentEpoch
  const models = await engine.versions.snapshot(names, budget)
  if (models === undefined) return undefined
  const [model = 0, rows = 0] = models
  if (!engine.rows) {
    const own = engine.versions.peek([slot.rowName])
    return own && { versions: { model, rows, row: own[0] as number }, frame: undefined }
  }
  const { ttlMs, swrMs, graceMs } = slot.policy
  const reply = await engine.rows.read(slot.model, slot.idText, slot.field, ttlMs + Math.max(swrMs, graceMs), budget)
  if (reply === undefined) return undefined
  const row = engine.versions.keep(slot.rowName, reply.version, epoch)
  // A bus message brought a later version while the reply travelled: the entry read is not current.
  return { versions: { model, rows, row }, frame: row === reply.version ? reply.frame : undefined }
}

function versionOf(slot: RowSlot, name: string, versions: RowVersions): number {
  if (name === slot.rowName) return versions.row
  return name.startsWith('w:') ? versions.rows : versions.model
}

/** The row of a Redis entry that is current under `versions` (kept locally too), or undefined. */
async function fromRedis(
  engine: Engine,
  slot: RowSlot,
  frame: Buffer,
  versions: RowVersions,
  deadline: number,
): Promise<{ row: Row | null; times: { freshUntil: number; staleUntil: number } } | undefined> {
  // The row's own version must be this one; the model's may be newer (a write this process has not heard of).
  const current = (entry: StoredEntry) =>
    entry.query === slot.text &&
    entry.deps.every((name, i) => {
      const expected = versionOf(slot, name, versions)
      const version = entry.versions[i] as number
      return name === slot.rowName ? version === expected : version >= expected
    })
  const read = readEntry(engine, frame, current, isRecord)
  if (!read) return undefined
  const { entry } = read
  const row = read.value as Row | null
  // Newer model versions answer only if Redis holds them: an entry's own versions are never taken on trust.
  const newer = entry.deps.flatMap((name, i) =>
    name !== slot.rowName && entry.versions[i] !== versionOf(slot, name, versions) ? [i] : [],
  )
  if (newer.length > 0) {
    const names = newer.map((i) => entry.deps[i] as string)
    const values = newer.map((i) => entry.versions[i] as number)
    if (!(await engine.versions.confirm(names, values, deadline))) return undefined
  }
  engine.local?.set(
    slot.text,
    { value: row, encodedBytes: entry.value.byteLength, deps: entry.deps, versions: entry.versions },
    entry,
  )
  return { row, times: entry }
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
  const local = localAlias(engine, call, target)
  if (local !== undefined || !engine.rows) return local
  const text = aliasText(call.model, call.partition, target.uniqueText as string)
  return engine.rows.alias(call.model, text, budget)
}

function setAlias(engine: Engine, call: ReadCall, uniqueText: string, idText: string): void {
  engine.inBackground(storeAlias(engine, call.model, call.partition, uniqueText, idText, call.policy.ttlMs))
}

function dropAlias(engine: Engine, call: ReadCall, uniqueText: string): void {
  const text = aliasText(call.model, call.partition, uniqueText)
  engine.local?.delete(text)
  if (engine.rows) engine.inBackground(engine.rows.dropAlias(call.model, text))
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

/** Stale-while-revalidate for a row: one background fill per row entry in this process. */
function refreshRow(engine: Engine, call: ReadCall, slot: RowSlot, target: RowTarget): void {
  refreshOnce(engine, slot.text, async () => {
    const snapshot = await rowSnapshot(engine, slot, { deadline: performance.now() + (engine.redis?.timeoutMs ?? 0) })
    if (snapshot === undefined) return
    engine.stats.refreshes++
    await fillRow(engine, call, { slot, target, versions: snapshot.versions, grace: undefined })
  })
}
