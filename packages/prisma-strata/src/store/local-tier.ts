/**
 * The in-process tier: an LRU of encoded values bounded by bytes. It caches Redis (same keys, same versions) and
 * never keeps an entry longer than Redis does. Values stay encoded so every hit decodes a fresh copy: a caller
 * that mutates its result cannot change what the next caller gets.
 */
import { LRUCache } from 'lru-cache'

export interface LocalEntry {
  /** The encoded result. */
  value: Uint8Array
  /** Version names the result depends on, sorted. */
  deps: string[]
  /** Their versions when the query was sent. */
  versions: number[]
}

const ENTRY_OVERHEAD = 96

export class LocalTier {
  private readonly lru: LRUCache<string, LocalEntry>
  private readonly ttlCap: number

  constructor(maxBytes: number, ttlCapSeconds: number | undefined) {
    this.ttlCap = ttlCapSeconds === undefined ? Number.POSITIVE_INFINITY : ttlCapSeconds * 1000
    this.lru = new LRUCache<string, LocalEntry>({
      maxSize: maxBytes,
      sizeCalculation: (entry, key) =>
        entry.value.byteLength + key.length * 2 + entry.deps.length * 24 + ENTRY_OVERHEAD,
      ttlAutopurge: false,
    })
  }

  get(key: string): LocalEntry | undefined {
    return this.lru.get(key)
  }

  /** Stores for at most `ttlMs` (and the cap); an entry too large for the tier is simply not kept. */
  set(key: string, entry: LocalEntry, ttlMs: number): void {
    const ttl = Math.floor(Math.min(ttlMs, this.ttlCap))
    if (ttl >= 1) this.lru.set(key, entry, { ttl })
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
