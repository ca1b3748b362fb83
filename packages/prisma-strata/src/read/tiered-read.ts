/**
 * The one tiered read, for every kind of entry (entry-kind.ts). The order matters:
 * 1. a local entry whose versions are all current answers (no I/O);
 * 2. otherwise the versions of every dependency are snapshotted *before* any SQL is sent (design invariant 2,
 *    docs/design.md);
 * 3. a local entry filled under exactly that snapshot answers;
 * 4. otherwise one lookup and one database query per flight key in this process (single flight, flights.ts): a
 *    Redis entry current under the snapshot answers; else, with leases, one instance of the cluster fills while
 *    the others wait for its entry; the fill stores under the snapshot, so a fill a write overtook can never match.
 *    When Redis gives no snapshot, identical reads still share one query, and nothing is stored.
 * Past its TTL, a version-current entry is still served within `swr` (while one refresh runs) and, when the
 * database fails, within `grace`. An entry a write made stale is never served. Every outcome is counted here.
 */
import type { Engine } from '../engine'
import { HELD_ELSEWHERE, STOP } from '../store/leases'
import type { LocalEntry } from '../store/local-tier'
import type { Budget } from '../store/turn-batch'
import { copyResult } from './copy-result'
import type { EntryKind, Found, Outcome, Snapshot } from './entry-kind'
import type { Began } from './flights'
import { isNotFoundError } from './not-found'
import { EXPIRED, FRESH, freshness, orThrow, STALE } from './read-call'

type Tier = NonNullable<Outcome['tier']>

/** A version-current entry past `swr`: the answer if the database fails (within `grace`). */
interface Grace {
  value: unknown
  tier: Tier
}

export function tieredRead<S extends Snapshot>(engine: Engine, kind: EntryKind<S>): Promise<unknown> {
  if (engine.writesInFlight.any && engine.writesInFlight.touches(kind.deps())) return bypass(engine, kind)
  const local = localEntry(engine, kind.text)
  if (local !== undefined && engine.versions.matches(local.deps, local.versions) && kind.answers(local.value)) {
    const age = freshness(local.times)
    if (age !== EXPIRED) {
      try {
        return Promise.resolve(localHit(engine, kind, local, age))
      } catch (error) {
        return Promise.reject(error)
      }
    }
  }
  return slowRead(engine, kind)
}

/** The local entry of `text`, a fill of it answered but not yet stored (pending-fills.ts) stored first. */
function localEntry(engine: Engine, text: string): LocalEntry | undefined {
  engine.pendingFills.storeNow(text)
  return engine.local?.get(text)
}

function localHit<S extends Snapshot>(engine: Engine, kind: EntryKind<S>, local: LocalEntry, age: number): unknown {
  counted(engine, kind, { master: local.value, tier: 'local', stale: age === STALE })
  if (age === STALE) refresh(engine, kind)
  return kind.answer(local.value, false)
}

function slowRead<S extends Snapshot>(engine: Engine, kind: EntryKind<S>): Promise<unknown> {
  const began = engine.flights.begin()
  const budget = engine.budget(began.at)
  // Async steps are promise callbacks, not async functions: a Redis hit takes this path, and each async frame costs
  // it an allocation and a resumption.
  try {
    // Not awaited when given at once: even a known snapshot would wait a microtask, and the caller's synchronous
    // code (a long task holding the loop) would run before the hit's GET is sent.
    const pending = kind.snapshot(budget)
    if (pending instanceof Promise)
      return pending.then((snapshot) => underSnapshot(engine, kind, snapshot, began, budget))
    return underSnapshot(engine, kind, pending, began, budget)
  } catch (error) {
    return Promise.reject(error)
  }
}

/** The rest of a read the local tier did not answer at once, under its snapshot (undefined: Redis gave none). */
function underSnapshot<S extends Snapshot>(
  engine: Engine,
  kind: EntryKind<S>,
  snapshot: S | undefined,
  began: Began,
  budget: Budget,
): Promise<unknown> {
  let grace: Grace | undefined
  if (snapshot !== undefined) {
    // Looked up again: an identical read may have filled it while this one was waiting for the snapshot.
    const local = localEntry(engine, kind.text)
    if (local !== undefined && kind.isCurrent(local, snapshot) && kind.answers(local.value)) {
      const age = freshness(local.times)
      // A promise either way: called from the snapshot's callback too, where it is adopted (a rare path).
      if (age !== EXPIRED) return Promise.resolve(localHit(engine, kind, local, age))
      grace = { value: local.value, tier: 'local' }
    }
  }
  const waiting = engine.flights.join(kind.flightKey, kind.deps(), snapshot?.stamp, began)
  if (waiting) {
    // The same query already on its way to Redis or the database.
    return waiting.then((outcome) => {
      engine.stats.of(kind.call.model, kind.call.operation).coalesced++
      // A fill not yet stored is stored before this read takes its copy, which may share a Decimal with it.
      engine.pendingFills.storeNow(kind.text)
      // Prisma's not-found error is the querying read's: a read that shared its flight is thrown one of its own.
      return kind.answer(outcome.master, false)
    })
  }
  const work =
    snapshot === undefined ? uncached(engine, kind) : lookupOrFill(engine, kind, snapshot, grace, budget.deadline)
  return engine.flights.start(kind.flightKey, snapshot?.stamp, work, began).then((outcome) => {
    counted(engine, kind, outcome, began.at)
    return outcome.own
      ? kind.answer(outcome.own.value, true, outcome.notFound)
      : kind.answer(outcome.master, false, outcome.notFound)
  })
}

function lookupOrFill<S extends Snapshot>(
  engine: Engine,
  kind: EntryKind<S>,
  snapshot: S,
  grace: Grace | undefined,
  deadline: number,
): Promise<Outcome> {
  if (!engine.redis) return leaseOrFill(engine, kind, snapshot, grace, deadline)
  // A Redis hit is answered within the lookup's own callback: no async frame on a point or plain list read's hit (a
  // fine list's goes through its row names' check).
  return kind.lookup(snapshot, deadline).then((found) => {
    let fallback = grace
    if (found && kind.answers(found.value)) {
      const age = freshness(found.times)
      if (age !== EXPIRED) {
        if (age === STALE) refresh(engine, kind)
        return redisHit(found, age === STALE)
      }
      fallback ??= { value: found.value, tier: 'redis' }
    }
    return leaseOrFill(engine, kind, snapshot, fallback, deadline)
  })
}

/** No entry answered: with leases, one instance of the cluster fills while the others wait; else this one fills. */
async function leaseOrFill<S extends Snapshot>(
  engine: Engine,
  kind: EntryKind<S>,
  snapshot: S,
  grace: Grace | undefined,
  deadline: number,
): Promise<Outcome> {
  const leases = engine.leases
  if (leases) {
    const lease = await leases.acquire(kind.text, deadline)
    if (typeof lease === 'string') {
      // The previous holder may have stored its fill and released between our lookup and our lease: look again.
      const filled = await freshFill(kind, snapshot, deadline)
      if (filled && filled !== STOP) {
        void leases.release(kind.text, lease)
        return { master: filled.value, tier: 'redis' }
      }
      return fill(engine, kind, snapshot, grace, lease)
    }
    if (lease === HELD_ELSEWHERE) {
      // Another instance is filling this entry: wait a little for it rather than query the database too.
      // (A `null` result is a fill too: "no such row" was cached.)
      const filled = await leases.waitFor((until) => freshFill(kind, snapshot, until))
      if (filled === undefined) engine.stats.leaseWaitsOut++
      else if (filled !== STOP) return { master: filled.value, tier: 'redis' }
    }
  }
  return fill(engine, kind, snapshot, grace, undefined)
}

/**
 * The outcome of a Redis hit. An entry kept nowhere else goes as is to the read that looked it up (no copy), and
 * any other read of the flight decodes its own, on demand: identical reads sharing a Redis hit are rare.
 */
function redisHit(found: Found, stale: boolean): Outcome {
  const again = found.again
  return again === undefined ? { master: found.value, tier: 'redis', stale } : new OwnedHit(found.value, again, stale)
}

/** A Redis hit's outcome whose `master` is decoded only if a read that joined the flight asks for it. */
class OwnedHit implements Outcome {
  readonly tier = 'redis'
  readonly own: { value: unknown }
  private decoded: { value: unknown } | undefined

  constructor(
    value: unknown,
    private readonly again: () => unknown,
    readonly stale: boolean,
  ) {
    this.own = { value }
  }

  get master(): unknown {
    this.decoded ??= { value: this.again() }
    return this.decoded.value
  }
}

/** A fresh entry that answers the read, stored since the lookup; `STOP` when none will come. */
async function freshFill<S extends Snapshot>(
  kind: EntryKind<S>,
  snapshot: S,
  deadline: number,
): Promise<Found | undefined | typeof STOP> {
  const found = await kind.probe(snapshot, deadline)
  if (found === STOP) return STOP
  return found && freshness(found.times) === FRESH && kind.answers(found.value) ? found : undefined
}

async function fill<S extends Snapshot>(
  engine: Engine,
  kind: EntryKind<S>,
  snapshot: S,
  grace: Grace | undefined,
  lease: string | undefined,
): Promise<Outcome> {
  let result: Queried
  try {
    result = await query(engine, kind)
  } catch (error) {
    if (lease) void engine.leases?.release(kind.text, lease)
    if (grace === undefined) throw error
    return { master: grace.value, tier: grace.tier, stale: true }
  }
  const { master, landed, times } = kind.store(snapshot, result.value, lease)
  if (master !== undefined && kind.overtaken?.(snapshot)) refill(engine, kind, landed)
  // Followers of the flight share the answer even when it could not be cached.
  return {
    master: master === undefined ? copyResult(result.value) : master,
    own: { value: result.value },
    notFound: result.notFound,
    landed,
    times,
  }
}

/**
 * A read Redis gave no versions for: the database answers, and nothing is stored, for there is no snapshot taken
 * before the SQL to store it under.
 */
/**
 * A read made while a write it depends on is between the database and its bump (writes-in-flight.ts): the database
 * answers, nothing is stored, and no flight is shared.
 */
async function bypass<S extends Snapshot>(engine: Engine, kind: EntryKind<S>): Promise<unknown> {
  engine.stats.of(kind.call.model, kind.call.operation).bypasses++
  const { value, notFound } = await query(engine, kind)
  return kind.answer(value, true, notFound)
}

async function uncached<S extends Snapshot>(engine: Engine, kind: EntryKind<S>): Promise<Outcome> {
  const { value, notFound } = await query(engine, kind)
  return { master: copyResult(value), own: { value }, notFound }
}

interface Queried {
  value: unknown
  notFound?: unknown
}

/** Runs the read in the database; "no such row" of an `*OrThrow` read is a `null` result with Prisma's error. */
async function query<S extends Snapshot>(engine: Engine, kind: EntryKind<S>): Promise<Queried> {
  const { model, operation } = kind.call
  const started = performance.now()
  try {
    const value = await kind.query()
    engine.reporter.miss(model, operation, started)
    return { value }
  } catch (error) {
    if (orThrow(operation) && isNotFoundError(error)) return { value: null, notFound: error }
    throw error
  }
}

/**
 * Counts one read's outcome: a hit of the tier that answered (stale ones too, whether within `swr` or `grace`),
 * or a miss when the database answered; and tells `onHit`. `started`: when a read that went to Redis began.
 */
function counted<S extends Snapshot>(engine: Engine, kind: EntryKind<S>, outcome: Outcome, started?: number): void {
  const { model, operation } = kind.call
  const counters = engine.stats.of(model, operation)
  const { tier, stale = false } = outcome
  if (tier === undefined) {
    counters.misses++
    return
  }
  if (tier === 'local') counters.localHits++
  else counters.redisHits++
  if (stale) counters.stale++
  if (!engine.reporter.wantsHits) return
  const event = { model, operation, tier, stale }
  engine.reporter.hit(
    tier === 'redis' && started !== undefined ? { ...event, durationMs: performance.now() - started } : event,
  )
}

/**
 * A fill a write overtook (a write this process knows of moved a version of its snapshot on during the query) is
 * stored under versions no read asks for again: the next identical read would miss too, and on a hot entry that is
 * read while it is written to, every read under way at a write would. So it fills again at once, in the background,
 * under a snapshot taken now, as a flight identical reads join (dated by when its snapshot began, like any read):
 * one query instead of the next reader's miss. Once per entry at a time, with refreshes; a refill a write overtakes
 * in turn is not refilled while it runs.
 */
function refill<S extends Snapshot>(engine: Engine, read: EntryKind<S>, landed: Promise<unknown> | undefined): void {
  engine.refreshes.once(read.text, async () => {
    // Taken before the caller has its answer: it may change its arguments once it has.
    const kind = read.detached()
    // A value that could not be stored (too large, not encodable) would not be stored again either.
    await landed?.catch(() => undefined)
    if (read.filled === false) return
    const began = engine.flights.begin()
    const budget = engine.budget(began.at)
    const snapshot = await kind.snapshot(budget)
    if (snapshot === undefined) return
    // Filled already, or being filled under a snapshot as recent: nothing to do.
    const local = localEntry(engine, kind.text)
    if (local !== undefined && kind.isCurrent(local, snapshot)) return
    if (engine.flights.join(kind.flightKey, kind.deps(), snapshot.stamp, began)) return
    engine.stats.refills++
    const work = lookupOrFill(engine, kind, snapshot, undefined, budget.deadline)
    await engine.flights.start(kind.flightKey, snapshot.stamp, work, began)
  })
}

/**
 * Stale-while-revalidate: a read served an entry past its TTL (within `swr`, versions current) starts one
 * refresh in the background, once per entry in this process and, with leases, once across instances. A refresh
 * that fails leaves the stale entry in place (it may then be served within `grace`); its error is reported.
 */
function refresh<S extends Snapshot>(engine: Engine, read: EntryKind<S>): void {
  engine.refreshes.once(read.text, async () => {
    // Taken before the caller has its answer: it may change its arguments once it has.
    const kind = read.detached()
    const snapshot = await kind.snapshot(engine.budget())
    if (snapshot === undefined) return
    let lease: string | undefined
    if (engine.leases) {
      const acquired = await engine.leases.acquire(kind.text)
      if (typeof acquired !== 'string') return // another instance refreshes it, or Redis is away
      lease = acquired
    }
    engine.stats.refreshes++
    let result: Queried
    try {
      result = await query(engine, kind)
    } catch (error) {
      if (lease) void engine.leases?.release(kind.text, lease)
      throw error
    }
    await kind.store(snapshot, result.value, lease).landed
  })
}
