// Nothing Strata does after a write returned may turn the write's success into a failure: a write (or an
// interactive transaction) resolves as it would without Strata, what went wrong is reported to onError, and the
// cache drops more rather than serving a row the write changed.
import { type CacheOptions, cache, type StrataError } from 'prisma-strata'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { matrix, newClient, newDatabase, type RawClient, waitForBus } from './support/matrix.ts'
import { redisUrl } from './support/services.ts'

const writeThrough = { strategy: 'write-through' } as const

describe.each(matrix)('after a write: $provider / $tiers', (c) => {
  let db: TestDatabase
  let raw: RawClient
  let url: string | undefined
  let seq = 0
  const closing: Array<() => Promise<void>> = []
  const errors: StrataError[] = []

  /** A cached client (on an adapter of the test's choice). */
  async function cached(options: CacheOptions, adapter: unknown = db.adapter()) {
    const client = newClient(c.provider, adapter).$extends(
      cache({
        ...(url ? { redis: url } : {}),
        prefix: `aw${process.pid}x${Date.now().toString(36)}x${seq++}`,
        onError: (e) => errors.push(e),
        ...options,
      }),
    )
    closing.push(async () => {
      await client.$cache.close()
      await client.$disconnect()
    })
    if (url) await waitForBus(client)
    return client
  }

  beforeAll(async () => {
    db = await newDatabase(c.provider)
    raw = newClient(c.provider, db.adapter())
    url = c.tiers === 'two-tier' ? await redisUrl() : undefined
  })
  afterAll(async () => {
    for (const close of closing) await close()
    await raw?.$disconnect()
    await db?.drop()
  })
  beforeEach(async () => {
    errors.length = 0
    await raw.membership.deleteMany()
    await raw.post.deleteMany()
    await raw.team.deleteMany()
    await raw.user.deleteMany()
    await raw.user.createMany({ data: [1, 2].map((id) => ({ id, email: `u${id}@x`, name: `user ${id}` })) })
    await raw.team.create({ data: { id: 1, name: 'team' } })
    await raw.membership.create({ data: { userId: 1, teamId: 1, role: 'member' } })
  })

  const membership = { userId_teamId: { userId: 1, teamId: 1 } }

  it('a write whose result is null (its row is not found where Prisma reads it back) resolves as without Strata, in a transaction too', async () => {
    // Prisma reads a row back after a nested write; a row gone from there (moved by a trigger, or by another
    // transaction) makes its answer `null`. The adapter makes that read find nothing.
    // Only the read-back (it selects `name`): on MySQL, Prisma also selects the row's key before the UPDATE.
    const vanishing = vanishingReads(db.adapter(), /^SELECT .*name.*FROM\s+\S*User\b/is)
    const oracle = newClient(c.provider, vanishing.adapter)
    const prisma = await cached({ models: { User: writeThrough } }, vanishing.adapter)
    const update = (name: string) => ({
      where: { id: 1 },
      data: { name, posts: { create: { title: name } } },
      select: { name: true },
    })
    expect(await prisma.user.findUnique({ where: { id: 1 } })).toMatchObject({ name: 'user 1' })
    vanishing.on = true
    expect(await oracle.user.update(update('oracle'))).toBeNull()
    expect(await prisma.user.update(update('first'))).toBeNull()
    await prisma.$transaction(async (tx) => {
      expect(await tx.user.update(update('in tx'))).toBeNull()
    })
    vanishing.on = false
    // The transaction committed, and no cached row outlives the writes.
    expect(await raw.user.findUnique({ where: { id: 1 } })).toMatchObject({ name: 'in tx' })
    expect(await prisma.user.findUnique({ where: { id: 1 } })).toEqual(await raw.user.findUnique({ where: { id: 1 } }))
    await oracle.$disconnect()
  })

  it('a write that moves the primary key through a relation drops the row it left', async () => {
    const prisma = await cached({ models: { Membership: writeThrough } })
    expect(await prisma.membership.findUnique({ where: membership })).toMatchObject({ role: 'member' })
    // `userId` is part of the key: connecting another user moves the row to (2, 1).
    const moved = await prisma.membership.update({
      where: membership,
      data: { user: { connect: { id: 2 } } },
      select: { role: true },
    })
    expect(moved).toEqual({ role: 'member' })
    expect(await prisma.membership.findUnique({ where: membership })).toBeNull()
    const to = { userId_teamId: { userId: 2, teamId: 1 } }
    expect(await prisma.membership.findUnique({ where: to })).toEqual(await raw.membership.findUnique({ where: to }))
  })

  it('a context() that throws while putting the row: the write and the transaction succeed, the row is bumped, not put', async () => {
    let broken = false
    const prisma = await cached({
      models: { User: writeThrough },
      context: () => {
        if (broken) throw new Error('no tenant in this async context')
        return 'tenant'
      },
    })
    const read = () => prisma.user.findUnique({ where: { id: 1 } })
    expect((await read())?.name).toBe('user 1')
    broken = true
    expect(await prisma.user.update({ where: { id: 1 }, data: { name: 'written' } })).toMatchObject({ name: 'written' })
    const committed = await prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: 1 }, data: { name: 'in tx' } })
      return 'committed'
    })
    expect(committed).toBe('committed')
    broken = false
    // Without a partition the put is skipped (the row was bumped): nothing failed after the write. (A loaded
    // machine may still time out a Redis call now and then: that is reported as what it is.)
    expect(errors.map((e) => e.code)).not.toContain('E_AFTER_WRITE')
    expect(await read()).toEqual(await raw.user.findUnique({ where: { id: 1 } }))
    expect((await read())?.name).toBe('in tx')
  })
})

/** An adapter factory whose SELECTs matching `pattern` find no rows while `on` is set. */
function vanishingReads(factory: unknown, pattern: RegExp) {
  const state = { on: false, adapter: undefined as unknown }
  const wrap = <T extends object>(target: T, overrides: Record<string, unknown>): T =>
    new Proxy(target, {
      get(real, key) {
        if (typeof key === 'string' && Object.hasOwn(overrides, key)) return overrides[key]
        const value = Reflect.get(real, key, real)
        return typeof value === 'function' ? value.bind(real) : value
      },
    })
  type Queryable = { queryRaw(query: { sql: string }): Promise<{ rows: unknown[] }> }
  const reads = (queryable: Queryable) => ({
    async queryRaw(query: { sql: string }) {
      const result = await queryable.queryRaw(query)
      return state.on && pattern.test(query.sql) ? { ...result, rows: [] } : result
    },
  })
  const connection = (conn: Queryable & { startTransaction(...a: unknown[]): Promise<Queryable> }) =>
    wrap(conn, {
      ...reads(conn),
      startTransaction: async (...args: unknown[]) => {
        const tx = await conn.startTransaction(...args)
        return wrap(tx, reads(tx))
      },
    })
  const real = factory as { connect(): Promise<never> }
  state.adapter = wrap(real, { connect: async () => connection(await real.connect()) })
  return state
}
