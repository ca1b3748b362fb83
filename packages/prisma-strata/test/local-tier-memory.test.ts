import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { copyResult } from '../src/read/copy-result'
import { decodeValue, encodeValue } from '../src/store/codec'
import { LocalTier } from '../src/store/local-tier'

// A full GC without starting node with --expose-gc: the flag set at run time exposes `gc` to a new context.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const MAX_BYTES = 8 * 2 ** 20
const VERSION = Date.now() * 1000 + 0.5

interface Fill {
  key: (i: number) => string
  value: (i: number) => unknown
  deps: (i: number) => string[]
  /** swr: the fresh and stale times differ from the expiry. */
  windows?: boolean
  /** Kept as a Redis hit keeps it: decoded from its bytes (else as a miss does: a copy of the result). */
  decoded?: boolean
}

/** Versions as the versions module makes them: pushed one by one (an array with room to grow). */
function pushed(count: number): number[] {
  const out: number[] = []
  for (let i = 0; i < count; i++) out.push(VERSION + i)
  return out
}

/**
 * Fills a tier bounded at MAX_BYTES until it has evicted twice what it holds, then weighs what it holds: the heap
 * after a full GC, less the heap after another once the tier is let go. (Not the heap grown since before the tier
 * was made: a worker that ran other test files before may free memory of its own meanwhile, and has been seen to
 * hold less heap after the fill than before it.)
 */
function weigh(fill: Fill): { heap: number; bytes: number; entries: number } {
  let tier: LocalTier | undefined = new LocalTier(MAX_BYTES, undefined)
  const set = (i: number) => {
    const now = Date.now()
    const times = fill.windows
      ? { freshUntil: now + 30_000, staleUntil: now + 60_000, expiresAt: now + 60_000 }
      : { freshUntil: now + 60_000, staleUntil: now + 60_000, expiresAt: now + 60_000 }
    const deps = fill.deps(i)
    // What the read path stores: a copy of the result, or what a Redis entry decodes to, under a key built by
    // concatenation.
    const value = fill.decoded ? decodeValue(encodeValue(fill.value(i))) : copyResult(fill.value(i))
    tier?.set(fill.key(i), { value, deps, versions: pushed(deps.length) }, times)
  }
  let i = 0
  while (tier.bytes < MAX_BYTES * 0.95) set(i++)
  const full = i
  while (i < 3 * full) set(i++)
  const { bytes, size: entries } = tier
  gc()
  const held = process.memoryUsage().heapUsed
  tier = undefined
  gc()
  return { heap: held - process.memoryUsage().heapUsed, bytes, entries }
}

/** A string as a driver returns it: one flat string, not the pieces a template literal joins. */
const text = (s: string): string => JSON.parse(JSON.stringify(s))

const post = (i: number) => ({
  id: i,
  title: text(`Post number ${i}`),
  published: true,
  views: i,
  rating: null,
  authorId: null,
})
const findUnique = (i: number) => `Post|findUnique|${`{"where":{${`"id":${i}`}}}`}`

const wide = (i: number) => {
  const row: Record<string, unknown> = { id: i, createdAt: new Date(1_700_000_000_000 + i), score: i / 7 }
  for (let f = 0; f < 22; f++) row[`field${f}`] = f % 2 ? text(`value ${f} of row ${i}`) : f * i
  return row
}

describe('local tier memory', () => {
  const shapes: Array<[string, Fill]> = [
    ['one-row results of one model', { key: findUnique, value: post, deps: () => ['m:Post'] }],
    [
      'wide rows (25 fields), each under dependencies of its own',
      { key: (i) => `row|Post|${i}`, value: wide, deps: (i) => [`r:Post:${i.toString(36)}`, 'w:Post'] },
    ],
    [
      'wide rows decoded from Redis entries',
      { key: (i) => `row|Post|${i}`, value: wide, deps: () => ['w:Post'], decoded: true },
    ],
    [
      'one-row results decoded from Redis entries',
      { key: findUnique, value: post, deps: () => ['m:Post'], decoded: true },
    ],
    [
      'lists of 20 small rows, swr on',
      {
        key: (i) => `Post|findMany|{"skip":${i}}`,
        value: (i) => Array.from({ length: 20 }, (_, r) => ({ id: i + r, ok: r % 2 === 0 })),
        deps: () => ['m:Post', 'm:User'],
        windows: true,
      },
    ],
    [
      'text beyond Latin-1',
      {
        key: (i) => `Post|findFirst|{"where":{"title":"é ${i}"}}`,
        value: (i) => ({ id: i, title: text(`Заголовок ${i} — ✓`) }),
        deps: () => ['m:Post'],
      },
    ],
  ]

  it.each(
    shapes,
  )('%s: the heap held after GC is within 1.2× the bound, and not far below what it counts', (_, fill) => {
    const { heap, bytes, entries } = weigh(fill)
    expect(entries).toBeGreaterThan(1000)
    expect(bytes).toBeLessThanOrEqual(MAX_BYTES)
    expect(heap).toBeLessThanOrEqual(MAX_BYTES * 1.2)
    // Honest both ways: an estimate far above the heap held would waste the bound. (Decoded wide rows hold least
    // of what they count, about 0.6: the estimate assumes the dictionary a copy of a wide row becomes.)
    expect(heap).toBeGreaterThanOrEqual(bytes * 0.5)
  })

  it('entries filled under the same versions share one pair of arrays, not the caller’s', () => {
    const tier = new LocalTier(MAX_BYTES, undefined)
    const times = { freshUntil: Date.now() + 60_000, staleUntil: Date.now() + 60_000, expiresAt: Date.now() + 60_000 }
    const deps = ['m:Post']
    const versions = pushed(1)
    tier.set('a', { value: 1, deps, versions }, times)
    tier.set('b', { value: 2, deps: ['m:Post'], versions: pushed(1) }, times)
    tier.set('c', { value: 3, deps: ['m:Post'], versions: [VERSION + 1] }, times)
    const [a, b, c] = ['a', 'b', 'c'].map((k) => tier.get(k))
    expect(a?.deps).toBe(b?.deps)
    expect(a?.versions).toBe(b?.versions)
    expect(c?.versions).not.toBe(a?.versions)
    expect(c?.versions).toEqual([VERSION + 1])
    expect(a?.deps).not.toBe(deps)
    expect(a?.versions).not.toBe(versions)
  })

  it('keeps only the two times of an swr entry, not the object they came in (a whole Redis entry)', () => {
    const tier = new LocalTier(MAX_BYTES, undefined)
    const now = Date.now()
    const entry = {
      query: 'q',
      value: new Uint8Array(1000),
      freshUntil: now + 1000,
      staleUntil: now + 60_000,
      expiresAt: now + 60_000,
    }
    tier.set('q', { value: 1, deps: [], versions: [] }, entry)
    expect(tier.get('q')?.times).toEqual({ freshUntil: now + 1000, staleUntil: now + 60_000 })
  })
})
