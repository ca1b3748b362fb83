/**
 * What the tiered read (tiered-read.ts) asks of a kind of entry. There are two kinds: a query entry, one per query
 * text (query-entry.ts), and a write-through row entry, one per row (write-through/row-entry-kind.ts). The
 * skeleton owns the order of the tiers, single flight, leases, grace, stale-while-revalidate and the counting of
 * every outcome; a kind says where its entry lives, which versions it is checked against, how the database is
 * asked, and how an answer is stored and handed out.
 */
import type { STOP } from '../store/leases'
import type { LocalEntry } from '../store/local-tier'
import type { Budget } from '../store/turn-batch'
import type { ReadCall } from './read-call'

/** When an entry stops being fresh, and stops being served stale; undefined: fresh until it expires. */
export type Times = { freshUntil: number; staleUntil: number } | undefined

/** The versions a read took before any SQL. */
export interface Snapshot {
  /** Those versions: reads under equal stamps may share one query (compared number by number, never joined). */
  readonly stamp: readonly number[]
}

type Tier = 'local' | 'redis'

/** What one flight produced, shared by every read that joined it. */
export interface Outcome {
  /** A copy no caller holds, for every read but the one that made the flight (may be made only when asked for). */
  master: unknown
  /**
   * A value no one else holds, handed as is to the read that made the flight (and only to it): Prisma's own result
   * when it queried, or an entry decoded from Redis for it alone.
   */
  own?: { value: unknown }
  /** Prisma's not-found error, when the querying read called an `*OrThrow` method and there was no row. */
  notFound?: unknown
  /** The tier that answered; undefined when the database did. */
  tier?: Tier
  /** Answered by an entry past its TTL: within `swr` (a refresh runs) or `grace` (the database failed). */
  stale?: boolean
  /** A fill still on its way to Redis: identical reads keep sharing the flight until it has landed. */
  landed?: Promise<unknown>
  /**
   * The lifetime of a fill's answer, whose flight may stay open until the fill lands: past its TTL the answer is no
   * longer shared, landed or not. Other outcomes close their flight once answered.
   */
  times?: Times
}

/** What a fill stored. */
export interface Stored {
  /**
   * The master copy for the flight's other reads and the tiers, or undefined when the value is not stored. A query
   * entry is stored after the answer (pending-fills.ts) and gives its copy at once: it may still not be stored.
   */
  master: unknown
  /**
   * Settles once the entry is stored, Redis has it or refused it (and the lease is released); until then identical
   * reads share the flight. Undefined when nothing goes out, or when no later read of this process can reach Redis
   * before it.
   */
  landed: Promise<unknown> | undefined
  /** The answer's lifetime, counted from the answer, whether or not it was stored. */
  times: Times
}

/** An entry read from Redis that is current under the read's snapshot (already kept locally). */
export interface Found {
  value: unknown
  times: Times
  /**
   * Set when `value` was kept nowhere (no local tier): it may then go as is to the read that looked it up, and this
   * decodes another copy of the entry for any other read of the flight.
   */
  again?: () => unknown
}

export interface EntryKind<S extends Snapshot> {
  readonly call: ReadCall
  /** The entry's local key, and the text its Redis frame carries. */
  readonly text: string
  /** Reads with the same flight key send the same query (single flight). */
  readonly flightKey: string
  /** The version names the entry depends on. */
  deps(): readonly string[]
  /** Whether a cached value answers this read (a row found through an alias must still have that key). */
  answers(value: unknown): boolean
  /**
   * The versions before any SQL (and the Redis entry, if one call brings both); undefined if Redis cannot say. A kind
   * may give them at once, not as a promise (a query entry does when this process knows every version): a hit then
   * sends its lookup before the caller's code goes on.
   */
  snapshot(budget: Budget): S | undefined | Promise<S | undefined>
  /** Whether a local entry was filled under exactly `snapshot`. */
  isCurrent(entry: LocalEntry, snapshot: S): boolean
  /** The Redis entry current under `snapshot`, kept locally; undefined when there is none or Redis failed. */
  lookup(snapshot: S, deadline: number): Promise<Found | undefined>
  /**
   * Looks in Redis again, for a fill another holder of the lease may have stored since the lookup; `STOP` when
   * none will come (a write moved on, Redis is away).
   */
  probe(snapshot: S, deadline: number): Promise<Found | undefined | typeof STOP>
  /** Sends the read to the database (or runs a `wrap` loader). */
  query(): PromiseLike<unknown>
  /**
   * Stores a queried value under `snapshot` in both tiers, counts the fill, and releases `lease` once Redis has it
   * (or refused it). Whatever the caller's answer need not wait for is done after it (`landed`); a copy of the
   * value is taken first, since the caller may mutate it.
   */
  store(snapshot: S, value: unknown, lease: string | undefined): Stored
  /**
   * Whether the value `store` was given was kept, once `landed` has settled (a query entry stores it after the
   * answer, and may then find it too large or not encodable). Kinds that tell by `Stored.master` leave it out.
   */
  readonly filled?: boolean
  /**
   * Whether a write this process knows of has moved a version of `snapshot` on since it was taken: a fill under
   * it is never served. Kinds that cannot tell leave it out.
   */
  overtaken?(snapshot: S): boolean
  /**
   * The same entry for a query sent after the caller has its answer (a refill, a refresh), with the caller's
   * arguments copied now (`ReadCall.detached`). Called while the caller still waits for its answer.
   */
  detached(): EntryKind<S>
  /**
   * The caller's answer from `value`: `owned` when no one else holds it (`Outcome.own`, for the read that made the
   * flight); `notFound`, Prisma's error for an `*OrThrow` read of no row.
   */
  answer(value: unknown, owned: boolean, notFound?: unknown): unknown
}
