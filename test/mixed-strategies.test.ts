// Instances of one prefix may run different policies (a rolling deploy that turns write-through on): what a write
// bumps depends on the write, not on the writing instance's strategy, so each instance's answers equal an
// uncached client's once the other's bus message has arrived.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type CachedClient, matrix, type Setup, setupCase } from './support/matrix.ts'

describe.each(matrix.filter((c) => c.tiers === 'two-tier'))('mixed strategies: $provider / $tiers', (c) => {
  let s: Setup
  let writeThrough: CachedClient
  let invalidate: CachedClient
  let uncachedUser: CachedClient

  beforeAll(async () => {
    s = await setupCase(c, { models: { User: { strategy: 'write-through' } } })
    writeThrough = s.prisma
    invalidate = await s.instance({ models: {} })
    uncachedUser = await s.instance({ models: { User: false } })
  })
  afterAll(() => s?.close())
  beforeEach(async () => {
    await s.raw.user.deleteMany()
    await s.raw.user.createMany({ data: [1, 2, 3].map((id) => ({ id, email: `u${id}@x`, name: `user ${id}` })) })
    await s.prisma.$cache.invalidate({ models: ['User'] })
  })

  /**
   * Runs `write` on one instance, then waits until `reader` has applied its bump (its version of User changed):
   * from then on the reader must answer as the database does. How long the bus takes is not what is tested.
   */
  async function afterBus(reader: CachedClient, write: () => Promise<unknown>) {
    const before = await reader.$cache.versionTag({ models: ['User'] })
    await write()
    const start = Date.now()
    while ((await reader.$cache.versionTag({ models: ['User'] })) === before) {
      if (Date.now() - start > 5000) throw new Error('the bump never reached the reader')
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }

  const byId = (id: number) => ({ where: { id } })

  it('a write on an invalidate instance reaches the write-through rows of another', async () => {
    for (const id of [1, 2]) expect(await writeThrough.user.findUnique(byId(id))).toMatchObject({ id })
    await writeThrough.user.findUnique({ where: { email: 'u2@x' } })
    await afterBus(writeThrough, () => invalidate.user.update({ where: { id: 1 }, data: { name: 'renamed' } }))
    expect(await writeThrough.user.findUnique(byId(1))).toEqual(await s.raw.user.findUnique(byId(1)))
    await afterBus(writeThrough, () => invalidate.user.delete({ where: { id: 2 } }))
    expect(await writeThrough.user.findUnique(byId(2))).toBeNull()
    expect(await writeThrough.user.findUnique({ where: { email: 'u2@x' } })).toBeNull()
  })

  it('so does a write on an instance that does not cache the model, and $cache.invalidate', async () => {
    expect(await writeThrough.user.findUnique(byId(3))).toMatchObject({ name: 'user 3' })
    await afterBus(writeThrough, () => uncachedUser.user.update({ where: { id: 3 }, data: { name: 'uncached' } }))
    expect(await writeThrough.user.findUnique(byId(3))).toEqual(await s.raw.user.findUnique(byId(3)))
    await s.raw.user.update({ where: { id: 3 }, data: { name: 'outside Prisma' } })
    await afterBus(writeThrough, () => invalidate.$cache.invalidate({ models: ['User'] }))
    expect(await writeThrough.user.findUnique(byId(3))).toEqual(await s.raw.user.findUnique(byId(3)))
  })

  it('a write on the write-through instance reaches the entries of the invalidate one', async () => {
    expect(await invalidate.user.findUnique(byId(1))).toMatchObject({ name: 'user 1' })
    const list = { orderBy: { id: 'asc' as const } }
    await invalidate.user.findMany(list)
    await afterBus(invalidate, () => writeThrough.user.update({ where: { id: 1 }, data: { name: 'put' } }))
    expect(await invalidate.user.findUnique(byId(1))).toEqual(await s.raw.user.findUnique(byId(1)))
    expect(await invalidate.user.findMany(list)).toEqual(await s.raw.user.findMany(list))
    // And the write-through instance itself answers from the row it put.
    expect(await writeThrough.user.findUnique(byId(1))).toEqual(await s.raw.user.findUnique(byId(1)))
  })
})
