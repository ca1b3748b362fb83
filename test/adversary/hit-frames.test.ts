// ADVERSARY (commit 2896a27): Redis hits compare the frame's query text and dependency names in place with the
// ones the read expects; the lookup answers synchronously where it can; the local tier shares one (deps, versions)
// pair per list of names. Each test forges or races entries and compares the cached answer with the uncached
// client's (the oracle). A control per scene (an unmodified frame with only its value changed IS served) proves the
// reads under test really reach the frame path, so the refusals are not vacuous.
import { beforeAll, describe, expect, it } from 'vitest'
import {
  decodeEntry,
  encodeEntry,
  encodeValue,
  type StoredEntry,
} from '../../packages/prisma-strata/src/store/codec.ts'
import { openForged, storedKeys } from '../support/forged-entries.ts'
import type { Case, Setup } from '../support/matrix.ts'

// One provider: what is tested is the Redis frame path, which no provider changes (the SQL is the oracle's).
const cases: Case[] = [{ provider: 'postgres', tiers: 'two-tier' }]

async function frameOf(s: Setup, key: string): Promise<StoredEntry> {
  const redis = s.redis as NonNullable<Setup['redis']>
  const buf = await redis.getBuffer(key)
  if (!buf) throw new Error(`no frame under ${key}`)
  const entry = decodeEntry(buf)
  // decodeEntry's value is a view of the reply buffer: copy it out.
  return { ...entry, deps: [...entry.deps], versions: [...entry.versions], value: new Uint8Array(entry.value) }
}

/** The same shape with other contents: rows keep their keys (a fine list's names follow them), titles change. */
function falsify(real: unknown): unknown {
  if (typeof real === 'number') return real + 100
  if (Array.isArray(real)) return real.map((row) => ({ ...row, title: 'FORGED' }))
  if (real && typeof real === 'object') return { ...real, title: 'FORGED' }
  return { id: -1, title: 'FORGED', published: false, views: 0, rating: null, authorId: null }
}

/** Replaces the character at `at` of `text` by `by` (same UTF-8 length expected by the caller). */
function swapChar(text: string, at: number, by: string): string {
  return text.slice(0, at) + by + text.slice(at + 1)
}

describe.each(cases)('hit frames: $provider / $tiers', (c) => {
  const scene = openForged(c)
  const errors = scene.errors
  let s: Setup
  beforeAll(() => {
    s = scene.s
  })

  /**
   * Fills `read` with the cached client, forges its frame with `forge` (and a FORGED value), and reads it with a
   * fresh instance twice: first with the frame brought by the snapshot, then by a plain GET (versions known).
   */
  async function forged(
    read: (p: Setup['prisma']) => Promise<unknown>,
    forge: (entry: StoredEntry) => StoredEntry,
    wrong: (real: unknown) => unknown = falsify,
    pattern = 'e:Post:*',
  ): Promise<{ answers: unknown[]; expected: unknown; redisHits: number }> {
    const real = await read(s.prisma)
    const [key] = await storedKeys(s, pattern)
    const entry = await frameOf(s, key as string)
    const bad = encodeEntry({ ...forge(entry), value: encodeValue(wrong(real)) })
    const redis = s.redis as NonNullable<Setup['redis']>
    await redis.set(key as string, bad, 'PX', 60_000)
    const other = await s.instance({ local: false })
    const answers = [await read(other)]
    // A first read that missed fills, replacing the forged frame: wait for its fill (it is on its way; the test's
    // timeout bounds the wait), forge again, and read by a plain GET this time (the versions are known now).
    if (other.$cache.stats().misses > 0) {
      for (;;) {
        const now = await redis.getBuffer(key as string)
        if (now === null || !now.equals(bad)) break
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
    await redis.set(key as string, bad, 'PX', 60_000)
    answers.push(await read(other))
    const expected = await read(s.raw as never)
    const redisHits = other.$cache.stats().redisHits
    await other.$disconnect() // its pool: PostgreSQL's connections are few
    return { answers, expected, redisHits }
  }

  /** `forge`d frames are not served: both reads are answered by the database, as the uncached client answers. */
  async function refused(...args: Parameters<typeof forged>): Promise<void> {
    const { answers, expected, redisHits } = await forged(...args)
    expect(answers).toEqual([expected, expected])
    expect(redisHits).toBe(0)
  }

  /** `refused` for a frame forged at each of its dependency names in turn (`forgeAt(entry, i)`). */
  async function refusedAtEachName(
    read: Parameters<typeof forged>[0],
    forgeAt: (entry: StoredEntry, i: number) => StoredEntry,
  ): Promise<void> {
    let count = 1
    for (let which = 0; which < count; which++) {
      await clearEntries()
      await refused(read, (e) => {
        count = e.deps.length
        return forgeAt(e, which)
      })
    }
  }

  async function clearEntries() {
    await s.prisma.$cache.invalidate({ models: ['Post'] })
    const old = (await s.redis?.keys(`${s.prefix}:e:*`)) ?? []
    if (old.length > 0) await s.redis?.del(...old)
  }

  async function seed(title: string) {
    const user = await s.raw.user.create({ data: { email: `${Math.random()}@x` } })
    return s.raw.post.create({ data: { title, authorId: user.id } })
  }

  /** Reads of several kinds: fine lists (ordered by key), coarse lists, counts, a first row; `t` is the title. */
  const kinds: Array<{ name: string; read: (t: string) => (p: Setup['prisma']) => Promise<unknown> }> = [
    { name: 'fine list', read: (t) => (p) => p.post.findMany({ where: { title: t }, orderBy: { id: 'asc' } }) },
    {
      name: 'coarse list',
      read: (t) => (p) => p.post.findMany({ where: { title: t }, orderBy: [{ views: 'desc' }, { id: 'asc' }] }),
    },
    { name: 'count', read: (t) => (p) => p.post.count({ where: { title: t } }) },
    {
      name: 'findFirst, tagged',
      read: (t) => (p) =>
        p.post.findFirst({
          where: { title: t },
          orderBy: { views: 'desc' },
          ...((p as unknown) === s.raw ? {} : { cache: { tags: ['tä'] } }),
        } as never),
    },
  ]

  describe.each(kinds)('$name', ({ read: readOf }) => {
    it('control: an unmodified frame with only its value forged is served (the reads reach the frame path)', async () => {
      await seed('é-title')
      const read = readOf('é-title')
      const { answers, expected, redisHits } = await forged(read, (e) => e)
      expect(answers).toEqual([falsify(expected), falsify(expected)])
      expect(redisHits).toBe(2)
    })

    it('a query text differing only in one non-ASCII character of the same byte length is not served', async () => {
      await seed('é-title')
      await refused(readOf('é-title'), (e) => {
        const at = e.query.indexOf('é')
        expect(at).toBeGreaterThanOrEqual(0)
        const query = swapChar(e.query, at, 'è')
        expect(Buffer.byteLength(query)).toBe(Buffer.byteLength(e.query))
        return { ...e, query }
      })
    })

    it('a query text whose bytes differ in one ASCII byte (same length) is not served', async () => {
      await seed('abc')
      await refused(readOf('abc'), (e) => ({
        ...e,
        query: e.query.replace('abc', 'abd'),
      }))
    })

    it('a query text whose last byte is made non-ASCII (invalid or other UTF-8) is not served, no crash', async () => {
      await seed('abc')
      const read = readOf('abc')
      await read(s.prisma)
      const [key] = await storedKeys(s, 'e:Post:*')
      const redis = s.redis as NonNullable<Setup['redis']>
      const buf = (await redis.getBuffer(key as string)) as Buffer
      const at = 30 + buf.readUInt32BE(26) - 1
      const expected = await read(s.raw as never)
      for (const byte of [0x80 | (buf[at] as number), 0xc3, 0xff]) {
        const copy = Buffer.from(buf)
        copy[at] = byte
        await redis.set(key as string, copy, 'PX', 60_000)
        // No fill: the instance's own fill would race the next forgery.
        const other = await s.instance({ local: false })
        const got = await read(other)
        expect(got).toEqual(expected)
        expect(other.$cache.stats().redisHits).toBe(0)
        await other.$disconnect()
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })

    it("query A's frame under query B's key (a hash collision) is not served to B", async () => {
      await seed('aaaa')
      await seed('bbbb')
      const readA = readOf('aaaa')
      const readB = readOf('bbbb')
      const a = await readA(s.prisma)
      const [keyA] = await storedKeys(s, 'e:Post:*')
      const entryA = await frameOf(s, keyA as string)
      await s.redis?.del(keyA as string)
      // B's key now holds A's frame, A's value included.
      await refused(
        readB,
        () => entryA,
        () => a,
      )
    })

    it('a frame whose dependency names differ by one byte (same length, same versions) is not served', async () => {
      await seed('n1')
      await refusedAtEachName(readOf('n1'), (e, which) => {
        const name = e.deps[which] as string
        const last = name.charCodeAt(name.length - 1)
        const deps = [...e.deps]
        deps[which] = name.slice(0, -1) + String.fromCharCode(last === 0x41 ? 0x42 : 0x41)
        return { ...e, deps }
      })
    })

    it('a frame whose names are one made non-ASCII (same byte length) is not served', async () => {
      await seed('n2')
      await refused(readOf('n2'), (e) => {
        const deps = [...e.deps]
        deps[0] = `${(deps[0] as string).slice(0, -2)}é` // two bytes for two
        return { ...e, deps }
      })
    })

    it('a frame whose names are the read’s plus one more, or all but the last, is not served', async () => {
      await seed('sup')
      const read = readOf('sup')
      for (const shape of ['superset', 'prefix', 'non-ascii-extra', 'reordered']) {
        await clearEntries()
        await refused(read, (e) => {
          if (shape === 'prefix') return { ...e, deps: e.deps.slice(0, -1), versions: e.versions.slice(0, -1) }
          if (shape === 'reordered') return { ...e, deps: [...e.deps].reverse(), versions: [...e.versions].reverse() }
          const extra = shape === 'superset' ? 'zz:extra' : 'zz:ü'
          return { ...e, deps: [...e.deps, extra], versions: [...e.versions, 1] }
        })
      }
    })

    it('a frame under newer versions than Redis holds (the confirm path) is not served, each name in turn', async () => {
      await seed('newer')
      await refusedAtEachName(readOf('newer'), (e, which) => ({
        ...e,
        versions: e.versions.map((v, i) => (i === which ? v + 1 : v)),
      }))
      expect(errors).toEqual([])
    })
  })

  it('an entry another instance filled under newer versions (confirmed) answers with the current rows', async () => {
    await seed('conf')
    const readers = await s.instance({ local: false })
    const read = (p: Setup['prisma']) => p.post.findMany({ where: { title: 'conf' }, orderBy: { id: 'asc' } })
    for (let round = 0; round < 20; round++) {
      // The reader knows the versions; the writer moves them and fills at once: the reader may see the entry
      // before the bus message (confirm path) or after it.
      await read(readers)
      const writer = s.prisma
      await writer.post.create({ data: { title: 'conf' } })
      await read(writer)
      const got = await read(readers)
      expect(got).toEqual(await read(s.raw as never))
    }
  })

  it('a fine list entry (take): names one byte off, or a value whose rows give other names, is not served', async () => {
    for (let i = 0; i < 3; i++) await seed(`fine${i}`)
    const read = (p: Setup['prisma']) =>
      p.post.findMany({ where: { published: false }, orderBy: { id: 'asc' }, take: 2 })
    const expected = await read(s.raw as never)
    // Control: same names, same ids, other titles: served (only the metadata guards).
    const control = await forged(read, (e) => {
      expect(e.deps.some((d) => d.startsWith('a:'))).toBe(true) // a fine entry: arrivals, not contents
      return e
    })
    expect(control.answers).toEqual([falsify(expected), falsify(expected)])
    await clearEntries()
    const offByOne = await forged(read, (e) => ({
      ...e,
      deps: e.deps.map((d) => d.slice(0, -1) + (d.endsWith('A') ? 'B' : 'A')),
    }))
    expect(offByOne.answers).toEqual([expected, expected])
    await clearEntries()
    const otherRows = await forged(
      read,
      (e) => e,
      (real) => (real as Array<{ id: number }>).map((row) => ({ ...row, id: row.id + 1000 })),
    )
    expect(otherRows.answers).toEqual([expected, expected])
    expect(otherRows.redisHits).toBe(0)
  })

  it("$cache.wrap: key 'clè''s frame (another value) under key 'clé''s key is not served", async () => {
    const loads: string[] = []
    const wrapped = (key: string) => (p: Setup['prisma']) =>
      (p as unknown) === s.raw
        ? Promise.resolve(`value of ${key}`)
        : p.$cache.wrap(key, () => {
            loads.push(key)
            return `value of ${key}`
          })
    // Control: its own frame, value forged, is served (a wrap accepts any value).
    const control = await forged(
      wrapped('clé'),
      (e) => e,
      () => 'FORGED',
      'e:$wrap:*',
    )
    expect(control.answers).toEqual(['FORGED', 'FORGED'])
    const [keyA] = await storedKeys(s, 'e:$wrap:*')
    await wrapped('clè')(s.prisma)
    const keys = await storedKeys(s, 'e:$wrap:*', 2)
    const keyB = keys.find((k) => k !== keyA) as string
    const entryB = await frameOf(s, keyB)
    expect(entryB.query).toContain('clè')
    // Key 'clé' holds key 'clè''s frame (its value included): a 1-character, same-byte-length difference.
    await (s.redis as NonNullable<Setup['redis']>).set(keyA as string, encodeEntry(entryB), 'PX', 60_000)
    loads.length = 0
    const other = await s.instance({ local: false })
    expect(await wrapped('clé')(other)).toBe('value of clé')
    expect(loads).toEqual(['clé'])
    expect(other.$cache.stats().redisHits).toBe(0)
  })

  it("context partitions 'é' and 'è': one's frame under the other's key is not served", async () => {
    let tenant = 'è'
    const p1 = await s.instance({ context: () => tenant })
    await seed('ctx')
    const read = (p: Setup['prisma']) => p.post.count({ where: { title: 'ctx' } })
    await read(p1)
    const [keyB] = await storedKeys(s, 'e:Post:*')
    const entryB = await frameOf(s, keyB as string)
    expect(entryB.query).toContain('è')
    await s.redis?.del(keyB as string)
    tenant = 'é'
    await read(p1)
    const [keyA] = await storedKeys(s, 'e:Post:*')
    expect(keyA).not.toBe(keyB)
    await (s.redis as NonNullable<Setup['redis']>).set(
      keyA as string,
      encodeEntry({ ...entryB, value: encodeValue(999) }),
      'PX',
      60_000,
    )
    const other = await s.instance({ local: false, context: () => tenant })
    expect(await read(other)).toBe(await s.raw.post.count({ where: { title: 'ctx' } }))
    expect(other.$cache.stats().redisHits).toBe(0)
  })

  it('the confirm path: an entry filled under a version this instance has not heard of answers, and moves its pairs', async () => {
    const b = await s.instance({ invalidation: 'model' })
    const a = await s.instance({ invalidation: 'model', local: false })
    await seed('cf')
    const q1 = (p: Setup['prisma']) =>
      p.post.findMany({ where: { title: 'cf' }, orderBy: [{ views: 'asc' }, { id: 'asc' }] })
    const q2 = (p: Setup['prisma']) => p.post.count({ where: { title: 'cf' } })
    await q2(b) // b's local entry of q2 under the current m:Post version
    const redis = s.redis as NonNullable<Setup['redis']>
    const name = `{${s.prefix}}:v:m:Post`
    const before = Number(await redis.get(name))
    expect(before).toBeGreaterThan(0)
    // A write no bus message tells `b` of (yet): the row, and the version moved in Redis only.
    await s.raw.post.create({ data: { title: 'cf' } })
    await redis.set(name, String(before + 1))
    await q1(a) // filled under the new version
    await storedKeys(s, 'e:Post:*', 2)
    const hits = b.$cache.stats().redisHits
    expect(await q1(b)).toEqual(await q1(s.raw as never))
    expect(b.$cache.stats().redisHits).toBe(hits + 1) // confirmed, not refilled
    expect(await q1(b)).toEqual(await q1(s.raw as never))
    // q2's local entry holds the old version: no longer current once the new one was confirmed.
    expect(await q2(b)).toBe(await s.raw.post.count({ where: { title: 'cf' } }))
    expect(await q2(b)).toBe(await s.raw.post.count({ where: { title: 'cf' } }))
  })

  it('local pairs: two queries of identical names, a write between their fills, both answer the new rows', async () => {
    // `model` invalidation: every Post list depends on the same names.
    const m = await s.instance({ invalidation: 'model' })
    const q1 = (p: Setup['prisma']) => p.post.findMany({ where: { title: 'p1' }, orderBy: { id: 'asc' } })
    const q2 = (p: Setup['prisma']) => p.post.findMany({ where: { title: 'p2' }, orderBy: { id: 'asc' } })
    for (let round = 0; round < 10; round++) {
      await q1(m)
      await m.post.create({ data: { title: round % 2 ? 'p1' : 'p2' } })
      await q2(m) // fills under the new versions: the names' pair is replaced
      expect(await q1(m)).toEqual(await q1(s.raw as never))
      expect(await q2(m)).toEqual(await q2(s.raw as never))
      // Another write, then q1 first.
      await m.post.create({ data: { title: 'p1' } })
      expect(await q1(m)).toEqual(await q1(s.raw as never))
      expect(await q2(m)).toEqual(await q2(s.raw as never))
    }
  })

  it('local pairs: more than 64 lists of names (tags), writes between, every read is current', async () => {
    const m = await s.instance({ invalidation: 'model' })
    const read = (p: Setup['prisma'], i: number) =>
      p.post.count({ where: { title: `c${i % 5}` }, cache: { tags: [`tag${i}`] } } as never)
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 80; i++) await read(m, i)
      await m.post.create({ data: { title: `c${round}` } })
      if (round === 1) await m.$cache.invalidate({ tags: ['tag7'] })
      for (let i = 0; i < 80; i++)
        expect(await read(m, i)).toBe(await s.raw.post.count({ where: { title: `c${i % 5}` } }))
    }
  })

  it('local pairs: concurrent reads of same-named queries interleaved with writes match the oracle at rest', async () => {
    const m = await s.instance({ invalidation: 'model' })
    const titles = ['x0', 'x1', 'x2', 'x3']
    const q = (p: Setup['prisma'], t: string) => p.post.findMany({ where: { title: t }, orderBy: { id: 'asc' } })
    for (let round = 0; round < 15; round++) {
      const work: Promise<unknown>[] = []
      for (const t of titles) work.push(q(m, t))
      work.push(m.post.create({ data: { title: titles[round % 4] as string } }))
      for (const t of titles) work.push(q(m, t))
      await Promise.all(work)
      for (const t of titles) expect(await q(m, t)).toEqual(await q(s.raw as never, t))
    }
  })

  it('two instances on one prefix, the other reading by GET after its versions are known, see each write', async () => {
    const a = s.prisma
    const b = await s.instance()
    const q = (p: Setup['prisma']) => p.post.findMany({ where: { title: 'two' }, orderBy: { id: 'asc' } })
    for (let round = 0; round < 15; round++) {
      await q(a)
      await q(b)
      await (round % 2 ? a : b).post.create({ data: { title: 'two' } })
      // The writer's answer is current at once; the other's once the bus message arrived.
      const writer = round % 2 ? a : b
      expect(await q(writer)).toEqual(await q(s.raw as never))
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(await q(round % 2 ? b : a)).toEqual(await q(s.raw as never))
    }
  })
})

describe('decodeEntry with an expected text and names reads what it reads without them', () => {
  const alphabet = ['a', 'b', ':', 'é', 'è', 'ü', '€', '𝄞', 'A', 'B', '\u0000', '\u007f']
  let seed = 12345
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % n
  }
  const word = (max: number) => {
    let out = ''
    for (let i = rand(max) + 1; i > 0; i--) out += alphabet[rand(alphabet.length)]
    return out
  }
  /** A variant of `text`: itself, one character changed, one added or removed. */
  const mutate = (text: string) => {
    const chars = [...text]
    const at = rand(chars.length + 1)
    switch (rand(4)) {
      case 0:
        return text
      case 1:
        chars[Math.min(at, chars.length - 1)] = alphabet[rand(alphabet.length)] as string
        return chars.join('')
      case 2:
        chars.splice(at, 0, alphabet[rand(alphabet.length)] as string)
        return chars.join('')
      default:
        chars.splice(at, 1)
        return chars.join('')
    }
  }

  it('20,000 random frames and expectations', () => {
    const times = { freshUntil: 1, staleUntil: 2, expiresAt: 3 }
    for (let n = 0; n < 20_000; n++) {
      const deps = Array.from({ length: rand(5) }, () => word(8))
      const query = word(12)
      const frame = encodeEntry({ query, deps, versions: deps.map((_, i) => i + 1), ...times, value: encodeValue(n) })
      let expDeps = deps.map(mutate)
      if (rand(3) === 0) expDeps = expDeps.slice(0, rand(expDeps.length + 1))
      if (rand(5) === 0) expDeps = [...expDeps, word(4)]
      const expected = { query: mutate(query), deps: expDeps }
      const before = [...expected.deps]
      const plain = decodeEntry(frame)
      const got = decodeEntry(frame, expected)
      expect(got.query).toBe(plain.query)
      expect(got.deps).toEqual(plain.deps)
      expect(got.versions).toEqual(plain.versions)
      expect(expected.deps).toEqual(before)
      expect(plain.query).toBe(query)
      expect(plain.deps).toEqual(deps)
    }
  })
})
