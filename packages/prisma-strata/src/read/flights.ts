/**
 * Single flight: identical reads under way in this process share one Redis lookup and one database query, whether
 * Redis answered their snapshot, or was slow, or down. Read-your-writes still holds: a read never joins a flight
 * whose read began before this process's latest write to one of its dependencies, unless the flight's snapshot
 * holds the same versions as the read's (then it holds that write too: see `join`), and every write stamps what it
 * bumps (when its bump starts, and again when it is done: see `Engine.bump`). So does every write heard of on the
 * bus: a read without versions (Redis gave none) may join a flight under way, and must not get the answer of a
 * query sent before a write this process already knew of.
 * A flight is dated by when its read began, not when the flight started: between the two the read takes its
 * snapshot (one or two Redis round trips), and a write of this process can return meanwhile. The flight may then
 * answer from an entry current under versions from before that write, and a read begun after the write must not
 * share it. A flight's answer outlives it briefly: a read that began before the flight's read, and was held up
 * longer (its turn's Redis call timed out later), still takes it, since the flight's snapshot and query were both
 * made after that read began. An answer past its TTL is never shared, even while its fill is still on its way
 * (the caller kept the event loop busy meanwhile, say): a read that comes that late queries again.
 */
import { sameList } from '../same-list'

/** When a read began (`performance.now()`), and the count of writes stamped by then. */
export interface Began {
  at: number
  writes: number
}

interface Flight<T extends object> {
  promise: Promise<T>
  /** The write count when the flight's read began: writes stamped later may not be seen by its answer. */
  since: number
  /** When the flight's read began: its snapshot and query were made later. */
  began: number
  /** The snapshot it was started under, or undefined when Redis did not give one. */
  versions: readonly number[] | undefined
  /** Answered and its fill landed: only reads begun before its read began may still take its answer. */
  settled: boolean
  /** When it was answered and its fill landed (`performance.now()`): its answer is kept `keepMs` after that. */
  settledAt: number
  /** Its answer, once given (its fill perhaps still on its way). */
  answer?: T
}

/** Every this many flights started, answered ones past `keepMs` are swept out (no timer per flight). */
const SWEEP_EVERY = 1000

/** Past this many stamped names, those older than every flight under way are forgotten. */
const MAX_STAMPS = 10_000

/** Flights whose answers are `T`, an object: an `answer` of `undefined` means none yet. */
export class Flights<T extends object> {
  private readonly byKey = new Map<string, Flight<T>>()
  private writes = 0
  /** Version name → the write count of this process's latest write to it. */
  private readonly stamps = new Map<string, number>()
  private started = 0

  /**
   * `keepMs`: how long an answered flight stays for reads begun before it (the Redis budget of a read).
   * `landed`: what an answer still has on its way after it was given (a fill going to Redis): until that settles,
   * the flight is under way, and identical reads share its answer rather than miss an entry not yet stored.
   * `fresh`: whether an answer given may still be shared (within its TTL).
   */
  constructor(
    private readonly keepMs: number,
    private readonly landed: (answer: T) => PromiseLike<unknown> | undefined = () => undefined,
    private readonly fresh: (answer: T) => boolean = () => true,
  ) {}

  /**
   * This process's write to `names` has returned (or is bumping them), or it heard of another's: flights whose
   * read began before no longer answer reads of them.
   */
  wrote(names: Iterable<string>): void {
    const stamp = ++this.writes
    for (const name of names) this.stamps.set(name, stamp)
    if (this.stamps.size > MAX_STAMPS) this.forget()
  }

  /** Marks a read beginning, before its snapshot: what `join` and `start` date it by. */
  begin(): Began {
    return { at: performance.now(), writes: this.writes }
  }

  /**
   * The flight a read of `key` (depending on `deps`, begun at `began`) may share: one whose read began since (its
   * snapshot and query are then as recent as the read's own would be, even if answered already), or one under way
   * under the same versions, or under way at all when Redis gave the read no versions. Never one whose read began
   * before this process's last write to `deps`, unless both hold the same versions: a read's versions hold every
   * write of this process that returned before it began (the write's bump applied them; a bump that failed leaves
   * the read without versions, see `Versions.snapshotWith`), and a write whose row matched a predicate of `deps`
   * but did not bump it ran its script before that predicate's scheme was registered, that is before the flight's
   * snapshot (a registry another instance recreated meanwhile moved the registry version, which the write's reply
   * carries: the read's versions then differ). So a flight under those versions took its snapshot after every such
   * write's bump, and its query ran after the write committed. Stamps name predicate epochs for row requests
   * (which predicates a row request bumps is known only once its script ran), which would otherwise keep identical
   * reads of a hot predicate from sharing a query whenever any row of the model is written meanwhile.
   */
  join(
    key: string,
    deps: readonly string[],
    versions: readonly number[] | undefined,
    began: Began,
  ): Promise<T> | undefined {
    const flight = this.byKey.get(key)
    if (flight === undefined) return undefined
    if (this.expired(flight, performance.now())) {
      this.byKey.delete(key)
      return undefined
    }
    if (flight.answer !== undefined && !this.fresh(flight.answer)) return undefined
    const same = versions !== undefined && flight.versions !== undefined && sameList(flight.versions, versions)
    if (flight.began < began.at && (flight.settled || (versions !== undefined && !same))) return undefined
    // Under the same versions, the flight's snapshot already holds every write this process knows of to `deps`
    // (see `join`'s note): only a read without versions, or one sharing a flight without, needs the stamps.
    if (same) return flight.promise
    for (const name of deps) if ((this.stamps.get(name) ?? 0) > flight.since) return undefined
    return flight.promise
  }

  /** Makes `work`, of a read begun at `began`, the flight of `key`: identical reads may join it (see `join`). */
  start(key: string, versions: readonly number[] | undefined, work: Promise<T>, began: Began): Promise<T> {
    const flight: Flight<T> = {
      promise: work,
      since: began.writes,
      began: began.at,
      versions,
      settled: false,
      settledAt: 0,
    }
    this.byKey.set(key, flight)
    // Answered flights are dropped by a sweep, not by a timer each: a process whose database answers without I/O
    // (SQLite) can run for seconds without reaching its timers, and would hold every answer until then.
    if (++this.started % SWEEP_EVERY === 0) {
      const now = performance.now()
      for (const [k, f] of this.byKey) if (this.expired(f, now)) this.byKey.delete(k)
    }
    const settle = () => {
      flight.settled = true
      flight.settledAt = performance.now()
    }
    work.then(
      (answer) => {
        flight.answer = answer
        const landing = this.landed(answer)
        if (landing === undefined) settle()
        else landing.then(settle, settle)
      },
      () => {
        if (this.byKey.get(key) === flight) this.byKey.delete(key)
      },
    )
    return work
  }

  private expired(flight: Flight<T>, now: number): boolean {
    return flight.settled && now - flight.settledAt > this.keepMs
  }

  /** A stamp no later than every flight's start can never keep a read from joining: drop those. */
  private forget(): void {
    let oldest = this.writes
    for (const flight of this.byKey.values()) if (flight.since < oldest) oldest = flight.since
    for (const [name, stamp] of this.stamps) if (stamp <= oldest) this.stamps.delete(name)
    if (this.stamps.size <= MAX_STAMPS / 2) return
    // A flight that has been under way through thousands of writes: new reads start their own instead.
    this.byKey.clear()
    this.stamps.clear()
  }
}
