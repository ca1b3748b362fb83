/**
 * The in-process tier: an LRU bounded by bytes. It caches Redis (same keys, same versions) and never keeps an
 * entry longer than Redis does. It holds a decoded master copy of each result that is never handed out: every hit
 * gets a deep copy (`copyResult`), so a caller that mutates its result cannot change what the next caller gets.
 */
import { LRUCache } from 'lru-cache'
import { sameList } from '../same-list'
import { arrayBytes, heapBytes, stringBytes } from './heap-size'

export interface LocalEntry {
  /** The master copy of the result: copied for every caller, never given out. */
  value: unknown
  /** Version names the result depends on, sorted. Shared between entries: never changed in place. */
  deps: string[]
  /** Their versions when the query was sent. Shared between entries: never changed in place. */
  versions: number[]
  /** When it stops being fresh and stops being served stale; absent when neither `swr` nor `grace` is on. */
  times: { freshUntil: number; staleUntil: number } | undefined
}

/** One shape for every entry (a spread copy would give each entry a hidden class of its own, 250 bytes more). */
class Entry implements LocalEntry {
  constructor(
    readonly value: unknown,
    readonly deps: string[],
    readonly versions: number[],
    readonly times: { freshUntil: number; staleUntil: number } | undefined,
  ) {}
}

/** The entry object: header and its 4 fields (an upper bound). */
const ENTRY_BYTES = 64
/**
 * lru-cache's bookkeeping for one entry: a Map entry (the Map's table doubles, so up to twice its 28 bytes) and a
 * slot in each of its seven arrays (key, value, next, prev, size, TTL, start; each grown by half again). The arrays
 * never shrink: a tier that once held many small entries keeps their slots when it holds fewer, larger ones.
 */
const SLOT_BYTES = 128
/** The times kept for an `swr`/`grace` entry: an object of two heap numbers. */
const TIMES_BYTES = 88

/**
 * Entries filled under the same dependencies and versions (a million queries of one model, between two writes)
 * share one pair of arrays: per list of names, the pair of the latest versions it was kept under. Only the latest
 * few lists are looked up; entries keep their pairs alive on their own.
 */
const SHARED_PAIRS = 64

/** A list of names (`id`: the names joined) and the latest versions it was kept under. */
interface Pair {
  id: string
  deps: string[]
  versions: number[]
}

export class LocalTier {
  private readonly lru: LRUCache<string, LocalEntry>
  private readonly ttlCap: number
  private readonly pairs = new Map<string, Pair>()
  /** The pair the last entry kept shares. */
  private last: Pair | undefined

  constructor(maxBytes: number, ttlCapSeconds: number | undefined) {
    this.ttlCap = ttlCapSeconds === undefined ? Number.POSITIVE_INFINITY : ttlCapSeconds * 1000
    // `ttlResolution: 0`: every get reads the clock. lru-cache otherwise keeps the time of a turn's first check until
    // a timer clears it, and no timer runs while a caller holds the event loop: an entry would be served past its TTL.
    this.lru = new LRUCache<string, LocalEntry>({ maxSize: maxBytes, ttlAutopurge: false, ttlResolution: 0 })
  }

  get(key: string): LocalEntry | undefined {
    return this.lru.get(key)
  }

  /**
   * Keeps a result until `times.expiresAt` (or the cap); an entry too large for the tier is simply not kept.
   * The fresh/stale times are kept only when an `swr` or `grace` window makes them differ from the expiry, so a
   * hit on an ordinary entry reads no clock but lru-cache's own TTL check.
   */
  set(
    key: string,
    entry: Omit<LocalEntry, 'times'>,
    times: { freshUntil: number; staleUntil: number; expiresAt: number },
  ): void {
    const ttl = Math.floor(Math.min(times.expiresAt - Date.now(), this.ttlCap))
    if (ttl < 1) return
    const windows = times.staleUntil > times.freshUntil || times.expiresAt > times.staleUntil
    // Only the two times: `times` may be a whole entry read from Redis, with its encoded bytes.
    const kept = windows ? { freshUntil: times.freshUntil, staleUntil: times.staleUntil } : undefined
    const { deps, versions } = this.shared(entry.deps, entry.versions)
    const text = flat(key)
    // Every entry counts what it holds, its arrays as if it shared them with none: the bound is an upper bound.
    const size =
      ENTRY_BYTES +
      SLOT_BYTES +
      stringBytes(text) +
      heapBytes(entry.value) +
      arrayBytes(deps.length) +
      arrayBytes(versions.length) +
      deps.reduce((bytes, name) => bytes + stringBytes(name), 0) +
      (kept ? TIMES_BYTES : 0)
    this.lru.set(text, new Entry(entry.value, deps, versions, kept), { ttl, size })
  }

  /** The shared pair equal to `deps` and `versions`, or a new one of their exact length. */
  private shared(deps: string[], versions: number[]): Pair {
    // The last list first: fills of one query shape (a new argument each time) bring equal lists in new arrays.
    let pair = this.last !== undefined && sameList(this.last.deps, deps) ? this.last : undefined
    if (pair === undefined) {
      // Keyed by the names alone: formatting the versions (large doubles) on every fill cost more than the lookup.
      const id = deps.join('\n')
      pair = this.pairs.get(id)
      if (pair === undefined || !sameList(pair.deps, deps)) {
        if (this.pairs.size >= SHARED_PAIRS) this.pairs.clear()
        // Copies: the caller's arrays may be longer than their length (grown by push) and are the caller's.
        pair = { id, deps: deps.slice(), versions: versions.slice() }
        this.pairs.set(id, pair)
      }
    }
    if (!sameList(pair.versions, versions)) {
      pair = { id: pair.id, deps: pair.deps, versions: versions.slice() }
      this.pairs.set(pair.id, pair)
    }
    this.last = pair
    return pair
  }

  delete(key: string): void {
    this.lru.delete(key)
  }

  clear(): void {
    this.lru.clear()
    this.pairs.clear()
    this.last = undefined
  }

  get size(): number {
    return this.lru.size
  }

  get bytes(): number {
    return this.lru.calculatedSize
  }
}

/**
 * A key built by concatenation is a tree of string pieces (six of them, 190 bytes more than its text, for a
 * `findUnique` key); reading a character makes V8 flatten it to one string, and the GC then drops the pieces.
 */
function flat(key: string): string {
  key.charCodeAt(0)
  return key
}
