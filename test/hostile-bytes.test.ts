// Values come back exactly as Prisma returns them from every tier (Json with an own `__proto__` key, a Float -0),
// and bytes that someone with write access to Redis put under our keys (query entries and write-through row
// hashes) are never served: each read is a miss answered by the database, the fault is reported as E_CODEC, and
// nothing reaches the caller. The frames are forged with Strata's own codec so that only the value is hostile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeEntry, encodeEntry, encodeValue } from '../packages/prisma-strata/src/store/codec.ts'
import { openForged, storedKeys } from './support/forged-entries.ts'
import { matrix, type Setup, setupCase } from './support/matrix.ts'

const PROTO_JSON = '{"theme":"dark","__proto__":{"isAdmin":true}}'

/** Waits for a fill, which is stored in the background, to be in Redis: the one key matching `pattern`. */
async function storedInRedis(s: Setup, pattern: string): Promise<string> {
  const keys = await storedKeys(s, pattern)
  expect(keys).toHaveLength(1)
  return keys[0] as string
}

/** Writes a Json column or a -0 Float by SQL: Prisma's own writes drop both on the way in. */
async function rawSet(s: Setup, sql: { sqlite: string; postgres: string }) {
  await s.raw.$executeRawUnsafe(s.db.provider === 'postgres' ? sql.postgres : sql.sqlite)
}

describe.each(matrix)('exact values from every tier: $provider / $tiers', (c) => {
  const scene = openForged(c)
  const errors = scene.errors
  let s: Setup
  beforeAll(() => {
    s = scene.s
  })

  /** The same read answered by the database, the local tier and (two-tier) Redis, in that order. */
  async function everyTier<T>(model: string, read: (client: Setup['prisma']) => Promise<T>): Promise<T[]> {
    const answers = [await read(s.prisma), await read(s.prisma)]
    expect(s.prisma.$cache.stats()).toMatchObject({ misses: 1, localHits: 1 })
    if (s.redis) {
      await storedInRedis(s, `e:${model}:*`)
      const other = await s.instance({ local: false })
      answers.push(await read(other))
      expect(other.$cache.stats()).toMatchObject({ misses: 0, redisHits: 1 })
    }
    return answers
  }

  it('Json with an own __proto__ key comes back as Prisma returns it, a fresh object for every caller', async () => {
    const user = await s.raw.user.create({ data: { email: 'proto@x' } })
    await rawSet(s, {
      sqlite: `UPDATE User SET prefs = '${PROTO_JSON}'`,
      postgres: `UPDATE "User" SET prefs = '${PROTO_JSON}'::jsonb`,
    })
    const read = (client: Setup['prisma']) => client.user.findUnique({ where: { id: user.id } })
    const expected = (await read(s.raw as never)) as { prefs: Record<string, unknown> }
    expect(Object.hasOwn(expected.prefs, '__proto__')).toBe(true) // what Prisma returns: an own property

    const answers = await everyTier('User', read)
    for (const answer of answers) {
      expect(answer).toEqual(expected)
      const prefs = (answer as { prefs: Record<string, unknown> }).prefs
      expect(Object.getPrototypeOf(prefs)).toBe(Object.prototype)
      expect(Object.hasOwn(prefs, '__proto__')).toBe(true)
      expect(prefs.isAdmin).toBeUndefined()
      ;(prefs.__proto__ as Record<string, unknown>).isAdmin = false // a caller mutating its own copy
    }
    expect(await read(s.prisma)).toEqual(expected)
    expect(errors).toEqual([])
  })

  it('a Float -0 comes back as -0', async () => {
    const post = await s.raw.post.create({ data: { title: 'zero', rating: 1 } })
    await rawSet(s, {
      sqlite: 'UPDATE Post SET rating = -0.0',
      postgres: `UPDATE "Post" SET rating = '-0'::float8`,
    })
    const read = (client: Setup['prisma']) => client.post.findMany({ where: { id: post.id } })
    const expected = await read(s.raw as never)
    // SQLite stores -0.0 as 0; PostgreSQL keeps the sign, and so must the cache.
    expect(Object.is(expected[0]?.rating, -0)).toBe(c.provider === 'postgres')
    for (const answer of await everyTier('Post', read)) {
      expect(answer).toEqual(expected)
      expect(Object.is(answer[0]?.rating, expected[0]?.rating)).toBe(true)
    }
  })
})

/** Hand-made msgpackr structured-clone bytes: an object whose `self` is a reference to itself. */
const CYCLIC = Buffer.from('d66900000001de0003a2696401a5656d61696ca178a473656c66d67000000001', 'hex')

/** Hand-made msgpackr structured-clone bytes: 40 levels of `[x, x]` by reference, 2^40 paths in 527 bytes. */
function referenceBomb(levels = 40): Buffer {
  const parts: Buffer[] = []
  for (let id = levels; id >= 1; id--) parts.push(Buffer.from(`92d669${id.toString(16).padStart(8, '0')}`, 'hex'))
  parts.push(Buffer.from('de0001a2696401', 'hex')) // { id: 1 }
  for (let id = 1; id <= levels; id++) parts.push(Buffer.from(`d670${id.toString(16).padStart(8, '0')}`, 'hex'))
  return Buffer.concat(parts)
}

/** Values that are well-formed but not what the read returns, and bytes that are not Strata's encoding. */
const hostile: Array<[string, Uint8Array]> = [
  ['a self-referencing object', CYCLIC],
  ['a reference bomb', referenceBomb()],
  ['a Set (msgpackr)', Buffer.from('d4730192010203', 'hex')],
  ['10,000 levels of nesting', Buffer.from([...Array.from({ length: 10_000 }, () => 0x91), 0xc0])],
  ['an array claiming 4 billion items', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])],
  ['a plain string', encodeValue('pwned')],
  ['a number', encodeValue(42)],
  ['a list of records', encodeValue([{ id: 1 }])],
  ['a record', encodeValue({ id: 1 })],
]

/** The hostile values that are the very shape of a read's result: an attacker can forge those, not a type. */
const itsShape: Record<string, string[]> = {
  findUnique: ['a record'],
  findMany: ['a list of records'],
  count: ['a number', 'a record'],
}

describe.each(matrix.filter((c) => c.tiers === 'two-tier'))('hostile bytes under our keys: $provider', (c) => {
  let s: Setup
  const errors: string[] = []
  let id: number

  beforeAll(async () => {
    s = await setupCase(c, {
      local: false, // every read goes to Redis
      models: { Post: { strategy: 'write-through' } },
      onError: (e) => errors.push(e.code),
    })
    id = (await s.raw.user.create({ data: { email: 'victim@x', name: 'victim', prefs: { n: 1 } } })).id
    await s.raw.post.create({ data: { title: 'row', authorId: id } })
  })
  afterAll(() => s?.close())

  const redis = () => s.redis as NonNullable<Setup['redis']>
  const frameAt = async (key: string, field: string | undefined) =>
    (field === undefined ? await redis().getBuffer(key) : await redis().hgetBuffer(key, field)) as Buffer

  /** Replaces the value of the frame under `key` (or its hash `field`) by `value`, keeping the rest. */
  async function forge(key: string, field: string | undefined, value: Uint8Array) {
    const forged = encodeEntry({ ...decodeEntry(await frameAt(key, field)), value })
    if (field === undefined) await redis().set(key, forged, 'KEEPTTL')
    else await redis().hset(key, field, forged)
  }

  /** Waits for the database's answer to replace the forged value (fills are stored in the background). */
  async function repaired(key: string, field: string | undefined, value: Uint8Array) {
    for (let i = 0; i < 500; i++) {
      if (!Buffer.from(decodeEntry(await frameAt(key, field)).value).equals(value)) return
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    throw new Error('the forged entry was never replaced by the database answer')
  }

  /** Each hostile value under the entry: a miss answered by the database, reported, then repaired and served. */
  async function attack(key: string, field: string | undefined, read: () => Promise<unknown>, skip: string[]) {
    const expected = await read()
    for (const [name, value] of hostile) {
      if (skip.includes(name)) continue
      errors.length = 0
      await forge(key, field, value)
      s.counting.reset()
      expect(await read(), name).toEqual(expected)
      expect(s.counting.count(), name).toBe(1) // the database answered
      expect(errors, name).toEqual(['E_CODEC'])
      await repaired(key, field, value)
      s.counting.reset()
      expect(await read(), name).toEqual(expected)
      expect(s.counting.count(), name).toBe(0) // Redis answers again
    }
  }

  const reads = {
    findUnique: (client: Setup['prisma']) => client.user.findUnique({ where: { id } }),
    findMany: (client: Setup['prisma']) => client.user.findMany({ where: { name: 'victim' } }),
    count: (client: Setup['prisma']) => client.user.count({ where: { name: 'victim' } }),
  }

  for (const [operation, read] of Object.entries(reads)) {
    it(`a ${operation} entry holding hostile bytes is a miss answered by the database`, async () => {
      const expected = await read(s.raw as never)
      await s.prisma.$cache.invalidate({ models: ['User'] })
      const old = await redis().keys(`${s.prefix}:e:*`)
      if (old.length > 0) await redis().del(...old)
      expect(await read(s.prisma)).toEqual(expected)
      const key = await storedInRedis(s, 'e:User:*')
      await attack(key, undefined, () => read(s.prisma), itsShape[operation] as string[])
    })
  }

  it('an entry key holding another type is a miss, not a Redis failure, whether the versions are known or not', async () => {
    const read = reads.findMany
    const expected = await read(s.raw as never)
    await s.prisma.$cache.invalidate({ models: ['User'] })
    const old = await redis().keys(`${s.prefix}:e:*`)
    if (old.length > 0) await redis().del(...old)
    expect(await read(s.prisma)).toEqual(expected)
    const key = await storedInRedis(s, 'e:User:*')
    const plant = async () => {
      await redis().del(key)
      await redis().hset(key, 'x', 'not an entry')
    }
    // This instance knows its versions: its GET meets the hash (a failed command, reported), then its fill
    // replaces it.
    await plant()
    s.prisma.$cache.resetStats()
    expect(await read(s.prisma)).toEqual(expected)
    expect(s.prisma.$cache.stats()).toMatchObject({ misses: 1, redisHits: 0 })
    // Its fill, stored in the background, replaces the hash before it is planted again.
    for (let i = 0; i < 500 && (await redis().type(key)) !== 'string'; i++) await new Promise((r) => setTimeout(r, 10))
    // A new instance knows no version: it reads them and the entry in one script, which must not fail on the hash.
    await plant()
    const fresh = await s.instance()
    errors.length = 0
    expect(await read(fresh)).toEqual(expected)
    expect(fresh.$cache.stats()).toMatchObject({ misses: 1, redisHits: 0 })
    expect(errors).toEqual([])
  })

  it('a write-through row hash holding hostile bytes is a miss answered by the database', async () => {
    const post = await s.raw.post.findFirstOrThrow({ where: { title: 'row' } })
    const read = () => s.prisma.post.findUnique({ where: { id: post.id } })
    expect(await read()).toEqual(await s.raw.post.findUnique({ where: { id: post.id } }))
    const key = await storedInRedis(s, 'r:Post:*')
    await attack(key, 'd', read, ['a record'])
  })
})
