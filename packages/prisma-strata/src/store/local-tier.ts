/**
 * The in-process tier: an LRU bounded by bytes. It caches Redis (same keys, same versions) and never keeps an
 * entry longer than Redis does. It holds a decoded master copy of each result that is never handed out: every hit
 * gets a deep copy (`copyResult`), so a caller that mutates its result cannot change what the next caller gets.
 */
import { LRUCache } from 'lru-cache'

export interface LocalEntry {
  /** The master copy of the result: copied for every caller, never given out. */
  value: unknown
  /** Its encoded size, the base of the entry's accounted size. */
  encodedBytes: number
  /** Version names the result depends on, sorted. */
  deps: string[]
  /** Their versions when the query was sent. */
  versions: number[]
  /** When it stops being fresh and stops being served stale; absent when neither `swr` nor `grace` is on. */
  times: { freshUntil: number; staleUntil: number } | undefined
}

/**
 * Bytes each entry costs besides its value and key: the entry and its arrays, the LRU's bookkeeping (96 counted
 * far too little for one-row results). `npm run bench -- --scenarios memory` fills a bounded tier with a million
 * one-row results and reports the heap held against `maxBytes`.
 */
const ENTRY_OVERHEAD = 400
/**
 * Decoded objects take several times their msgpack size in V8's heap; counting each entry as this many times its
 * encoded size keeps `maxBytes` close to the memory really held.
 */
export const DECODED_SIZE_FACTOR = 3

export class LocalTier {
  private readonly lru: LRUCache<string, LocalEntry>
  private readonly ttlCap: number

  constructor(maxBytes: number, ttlCapSeconds: number | undefined) {
    this.ttlCap = ttlCapSeconds === undefined ? Number.POSITIVE_INFINITY : ttlCapSeconds * 1000
    this.lru = new LRUCache<string, LocalEntry>({
      maxSize: maxBytes,
      sizeCalculation: (entry, key) =>
        entry.encodedBytes * DECODED_SIZE_FACTOR + key.length * 2 + entry.deps.length * 24 + ENTRY_OVERHEAD,
      ttlAutopurge: false,
    })
  }

  get(key: string): LocalEntry | undefined {
    return this.lru.get(key)
  }

  /**
   * Keeps a result until `times.expiresAt` (or the cap); an entry too large for the tier is simply not kept.
   * The fresh/stale times are kept only when an `swr` or `grace` window makes them differ from the expiry, so a
   * hit on an ordinary entry needs no clock.
   */
  set(
    key: string,
    entry: Omit<LocalEntry, 'times'>,
    times: { freshUntil: number; staleUntil: number; expiresAt: number },
  ): void {
    const ttl = Math.floor(Math.min(times.expiresAt - Date.now(), this.ttlCap))
    const windows = times.staleUntil > times.freshUntil || times.expiresAt > times.staleUntil
    if (ttl >= 1) this.lru.set(key, { ...entry, times: windows ? times : undefined }, { ttl })
  }

  delete(key: string): void {
    this.lru.delete(key)
  }

  clear(): void {
    this.lru.clear()
  }

  get size(): number {
    return this.lru.size
  }

  get bytes(): number {
    return this.lru.calculatedSize
  }
}
