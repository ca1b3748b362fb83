// Write-through models (`strategy: 'write-through'`): point reads are cached per row; a write to a row puts the
// whole new row into its entry instead of dropping it, other rows' entries stay, and a fill racing a put can never
// replace the newer row. Counted SQL proves where each answer came from.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { schema } from '../generated/sqlite/strata/index.js'
import { holdNextSelect } from './support/hold-statement.ts'
import { ansiSql, type CachedClient, matrix, type Setup, setupCase } from './support/matrix.ts'

const options = { models: { User: { strategy: 'write-through' }, Post: { strategy: 'write-through' } } } as const

describe.each(matrix)('write-through: $provider / $tiers', (c) => {
  let s: Setup
  let hold: ((sql: string) => Promise<void> | undefined) | undefined
  let writer: CachedClient

  beforeAll(async () => {
    s = await setupCase(c, options, { afterQuery: (sql) => hold?.(sql) })
    writer = s.prisma
  })
  afterAll(() => s?.close())
  beforeEach(async () => {
    hold = undefined
    await s.raw.post.deleteMany()
    await s.raw.user.deleteMany()
    for (let id = 1; id <= 3; id++) {
      await s.raw.user.create({ data: { id, email: `u${id}@x`, name: `user ${id}`, prefs: { n: id } } })
    }
    await s.prisma.$cache.invalidate({ models: ['User', 'Post'] })
    s.counting.reset()
  })

  const sql = () => s.counting.count()

  it('a point read is answered from its row entry after the first', async () => {
    const first = await s.prisma.user.findUnique({ where: { id: 1 } })
    expect(sql()).toBe(1)
    const again = await s.prisma.user.findUnique({ where: { id: 1 }, select: { name: true, prefs: true } })
    const all = await s.prisma.user.findUniqueOrThrow({ where: { id: 1 }, omit: { avatar: true } })
    expect(sql()).toBe(1)
    expect(again).toEqual({ name: 'user 1', prefs: { n: 1 } })
    const { avatar: _avatar, ...rest } = first as NonNullable<typeof first>
    expect(all).toEqual(rest)
  })

  it('a write puts the whole new row, whatever it selected, and readers get it without SQL', async () => {
    await s.prisma.user.findUnique({ where: { id: 1 } })
    const written = await writer.user.update({ where: { id: 1 }, data: { name: 'renamed' }, select: { email: true } })
    expect(written).toEqual({ email: 'u1@x' }) // the key Strata selected for itself is not handed back
    s.counting.reset()
    const read = await s.prisma.user.findUnique({ where: { id: 1 } })
    expect(read).toEqual(await s.raw.user.findUnique({ where: { id: 1 } }))
    expect(read?.name).toBe('renamed')
    expect(sql()).toBe(0)
    expect(s.prisma.$cache.stats().puts).toBeGreaterThan(0)
  })

  if (c.tiers === 'two-tier')
    it('another instance gets the put row from Redis, never the old one', async () => {
      const other = await s.instance()
      await s.prisma.user.findUnique({ where: { id: 1 } })
      await other.user.update({ where: { id: 1 }, data: { name: 'from another instance' } })
      // Until the bus message arrives this instance may still serve its local row; then Redis has the put.
      s.counting.reset()
      const deadline = Date.now() + 5000
      for (;;) {
        const name = (await s.prisma.user.findUnique({ where: { id: 1 } }))?.name
        if (name === 'from another instance') break
        expect(name).toBe('user 1')
        if (Date.now() > deadline) throw new Error('the write never reached this instance')
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      expect(sql()).toBe(0)
      expect(s.prisma.$cache.stats().models.User?.redisHits).toBeGreaterThan(0)
    })

  it('a write to one row does not evict point reads of other rows', async () => {
    await s.prisma.user.findUnique({ where: { id: 2 } })
    await s.prisma.user.findUnique({ where: { id: 3 }, select: { email: true } })
    await writer.user.update({ where: { id: 1 }, data: { name: 'x' } })
    await writer.user.upsert({ where: { id: 1 }, create: { email: 'no@x' }, update: { name: 'y' } })
    await writer.user.create({ data: { id: 4, email: 'u4@x' } })
    // A post linked to user 1: the key is the post's, no user row changes.
    await writer.post.create({ data: { title: 'linked', author: { connect: { id: 1 } } } })
    s.counting.reset()
    expect((await s.prisma.user.findUnique({ where: { id: 2 } }))?.name).toBe('user 2')
    expect(await s.prisma.user.findUnique({ where: { id: 3 }, select: { email: true } })).toEqual({ email: 'u3@x' })
    expect(sql()).toBe(0)
    // A delete too, on a model no referential action leads back to (deleting a User may SetNull other Users).
    const posts = await Promise.all([11, 12].map((id) => s.raw.post.create({ data: { id, title: `p${id}` } })))
    for (const post of posts) await s.prisma.post.findUnique({ where: { id: post.id } })
    await writer.post.delete({ where: { id: 11 } })
    s.counting.reset()
    expect((await s.prisma.post.findUnique({ where: { id: 12 } }))?.title).toBe('p12')
    expect(sql()).toBe(0)
    expect(await s.prisma.post.findUnique({ where: { id: 11 } })).toBeNull() // the deleted row: read, not served
    expect(sql()).toBe(1)
  })

  it('a list read of the model is still invalidated by every write', async () => {
    const before = await s.prisma.user.findMany({ orderBy: { id: 'asc' } })
    await writer.user.update({ where: { id: 2 }, data: { name: 'listed' } })
    const after = await s.prisma.user.findMany({ orderBy: { id: 'asc' } })
    expect(after).toEqual(await s.raw.user.findMany({ orderBy: { id: 'asc' } }))
    expect(after).not.toEqual(before)
  })

  it('a fill that read the old row before a write can never replace the row the write put', async () => {
    const held = holdNextSelect('User')
    hold = held.hook
    const reader = s.prisma.user.findUnique({ where: { id: 1 } }).then((r) => r)
    await held.held // the reader has snapshotted the row's version and read the old row
    await writer.user.update({ where: { id: 1 }, data: { name: 'newer' } }) // bumps, reads back, puts
    held.release()
    expect((await reader)?.name).toBe('user 1') // it started before the write: the old row is its answer
    await new Promise((resolve) => setTimeout(resolve, 50)) // its store (refused) has landed
    s.counting.reset()
    for (let i = 0; i < 3; i++) expect((await s.prisma.user.findUnique({ where: { id: 1 } }))?.name).toBe('newer')
    expect(sql()).toBe(0) // the put answers: neither dropped nor replaced by the older fill
    if (c.tiers === 'two-tier') {
      const other = await s.instance()
      expect((await other.user.findUnique({ where: { id: 1 } }))?.name).toBe('newer')
      // From Redis: the put is still there, not overwritten by the older fill (which readers would refuse anyway).
      expect(other.$cache.stats().models.User).toMatchObject({ redisHits: 1, misses: 0 })
    }
  })

  it('reads by another unique key find the row, and stop finding it when the key moves', async () => {
    expect((await s.prisma.user.findUnique({ where: { email: 'u2@x' } }))?.id).toBe(2) // learns email → row 2
    await s.prisma.user.findUnique({ where: { email: 'u2@x' } }) // fills row 2
    s.counting.reset()
    expect((await s.prisma.user.findUnique({ where: { email: 'u2@x' } }))?.id).toBe(2)
    expect(sql()).toBe(0)
    await writer.user.update({ where: { id: 2 }, data: { email: 'moved@x' } })
    expect(await s.prisma.user.findUnique({ where: { email: 'u2@x' } })).toBeNull()
    expect((await s.prisma.user.findUnique({ where: { email: 'moved@x' } }))?.id).toBe(2)
    await writer.user.create({ data: { id: 9, email: 'u2@x' } })
    expect((await s.prisma.user.findUnique({ where: { email: 'u2@x' } }))?.id).toBe(9)
  })

  it('"no such row" is cached per row until a create makes it exist', async () => {
    await expect(s.prisma.user.findUniqueOrThrow({ where: { id: 42 } })).rejects.toMatchObject({ code: 'P2025' })
    expect(await s.prisma.user.findUnique({ where: { id: 42 } })).toBeNull()
    expect(sql()).toBe(1)
    await writer.user.create({ data: { id: 42, email: 'late@x' } })
    expect((await s.prisma.user.findUnique({ where: { id: 42 } }))?.email).toBe('late@x')
  })

  it('writes that do not name their rows drop every row entry of the model', async () => {
    await s.prisma.user.findUnique({ where: { id: 1 } })
    await s.prisma.user.findUnique({ where: { id: 2 } })
    await writer.user.updateMany({ data: { name: 'all' } })
    expect((await s.prisma.user.findUnique({ where: { id: 1 } }))?.name).toBe('all')
    await writer.$executeRawUnsafe(ansiSql(c.provider, `UPDATE "User" SET "name" = 'raw' WHERE "id" = 2`))
    expect((await s.prisma.user.findUnique({ where: { id: 2 } }))?.name).toBe('raw')
    // A nested write reaching other rows of the model (a self-relation) too.
    await s.prisma.user.findUnique({ where: { id: 3 } })
    await writer.user.update({ where: { id: 1 }, data: { invitees: { connect: { id: 3 } } } })
    expect((await s.prisma.user.findUnique({ where: { id: 3 } }))?.invitedById).toBe(1)
  })

  it('referential actions reach write-through rows of other models', async () => {
    const post = await s.raw.post.create({ data: { title: 't', authorId: 1 } })
    expect((await s.prisma.post.findUnique({ where: { id: post.id } }))?.authorId).toBe(1)
    await writer.user.delete({ where: { id: 1 } }) // Post.author: onDelete SetNull
    expect((await s.prisma.post.findUnique({ where: { id: post.id } }))?.authorId).toBeNull()
  })

  it('an interactive transaction: its rows are put after commit, unchanged after rollback, others kept', async () => {
    await s.prisma.user.findUnique({ where: { id: 1 } })
    await s.prisma.user.findUnique({ where: { id: 2 } })
    await writer.$transaction(async (tx) => {
      await tx.user.update({ where: { id: 1 }, data: { name: 'in tx' }, select: { name: true } })
      // Inside, reads see the transaction's own writes (they never use the cache).
      expect((await tx.user.findUnique({ where: { id: 1 } }))?.name).toBe('in tx')
    })
    s.counting.reset()
    expect((await s.prisma.user.findUnique({ where: { id: 1 } }))?.name).toBe('in tx')
    expect((await s.prisma.user.findUnique({ where: { id: 2 } }))?.name).toBe('user 2')
    expect(sql()).toBe(0) // row 1 was put once the transaction committed; row 2's entry was never dropped
    await writer
      .$transaction(async (tx) => {
        await tx.user.update({ where: { id: 1 }, data: { name: 'rolled back' } })
        throw new Error('abort')
      })
      .catch(() => undefined)
    expect((await s.prisma.user.findUnique({ where: { id: 1 } }))?.name).toBe('in tx')
  })

  it('a batch transaction puts the rows it wrote', async () => {
    await s.prisma.user.findUnique({ where: { id: 2 } })
    await writer.$transaction([
      writer.user.update({ where: { id: 2 }, data: { name: 'batched' } }),
      writer.post.create({ data: { title: 'b', authorId: 2 } }),
    ])
    expect((await s.prisma.user.findUnique({ where: { id: 2 } }))?.name).toBe('batched')
  })
})

describe('write-through: leases', () => {
  it('with lease, a row missing in every instance is read from the database once; the others wait for it', async () => {
    let hold: ((sql: string) => Promise<void> | undefined) | undefined
    const s = await setupCase(
      matrix[1]!,
      { lease: { wait: 5000 }, models: { User: { strategy: 'write-through' } } },
      { afterQuery: (sql) => hold?.(sql) },
    )
    try {
      await s.raw.user.create({ data: { id: 1, email: 'a@x', name: 'leased' } })
      const other = await s.instance()
      const held = holdNextSelect('User')
      hold = held.hook
      const first = s.prisma.user.findUnique({ where: { id: 1 } }).then((r) => r)
      await held.held // this instance holds the lease and is reading the row
      const second = other.user.findUnique({ where: { id: 1 } }).then((r) => r)
      await new Promise((resolve) => setTimeout(resolve, 50)) // the other instance is waiting on the lease
      held.release()
      expect((await first)?.name).toBe('leased')
      expect((await second)?.name).toBe('leased')
      expect(other.$cache.stats().models.User).toMatchObject({ redisHits: 1, misses: 0 })
    } finally {
      hold = undefined
      await s.close()
    }
  })
})

describe('write-through: stale-while-revalidate and grace', () => {
  it('past its TTL a row is served stale while one refresh runs, and within grace when the database fails', async () => {
    let failing = false
    const s = await setupCase(
      matrix[0]!,
      { jitter: 0, models: { User: { strategy: 'write-through', ttl: 0.2, swr: 0.4, grace: 30 } } },
      {
        beforeQuery: (sql) => {
          if (failing && /select/i.test(sql)) throw new Error('database unavailable')
        },
      },
    )
    // Entry times are read from `Date`: only it is faked, so the test steps over the TTL and swr windows exactly,
    // however slowly a loaded machine runs it, while timers and I/O stay real.
    vi.useFakeTimers({ toFake: ['Date'] })
    const name = async () => (await s.prisma.user.findUnique({ where: { id: 1 } }))?.name
    try {
      await s.raw.user.create({ data: { id: 1, email: 'a@x', name: 'first' } })
      expect(await name()).toBe('first')
      await s.raw.user.update({ where: { id: 1 }, data: { name: 'second' } }) // behind the cache's back
      vi.advanceTimersByTime(250) // past the TTL, inside swr
      s.counting.reset()
      expect(await name()).toBe('first') // at once, stale
      expect(await name()).toBe('first')
      // One refresh for both stale reads; once it has landed, the row is fresh again.
      await vi.waitFor(async () => expect(await name()).toBe('second'))
      expect(s.counting.count()).toBe(1)
      vi.advanceTimersByTime(700) // past TTL + swr: only grace may serve it now
      failing = true
      const counted = s.prisma.$cache.stats()
      expect(await name()).toBe('second')
      // The cache answered: a stale hit, not a miss, as for query entries.
      const after = s.prisma.$cache.stats()
      expect(after.stale).toBe(counted.stale + 1)
      expect(after.localHits + after.redisHits).toBe(counted.localHits + counted.redisHits + 1)
      expect(after.misses).toBe(counted.misses)
    } finally {
      vi.useRealTimers()
      failing = false
      await s.close()
    }
  })
})

describe('write-through: options', () => {
  it('takes the strategy from a /// @cache annotation in the generated module', async () => {
    const annotated = {
      ...schema,
      models: { ...schema.models, User: { ...schema.models.User!, policy: { strategy: 'write-through' as const } } },
    }
    const s = await setupCase(matrix[0]!, { schema: annotated })
    try {
      await s.raw.user.create({ data: { id: 1, email: 'a@x' } })
      await s.prisma.user.findUnique({ where: { id: 1 } })
      await s.prisma.user.update({ where: { id: 1 }, data: { name: 'put' } })
      s.counting.reset()
      expect((await s.prisma.user.findUnique({ where: { id: 1 } }))?.name).toBe('put')
      expect(s.counting.count()).toBe(0)
    } finally {
      await s.close()
    }
  })

  it('rejects an unknown strategy with a message saying what is allowed', async () => {
    await expect(setupCase(matrix[0]!, { models: { User: { strategy: 'write-back' as never } } })).rejects.toThrow(
      /models\.User\.strategy` must be "invalidate" or "write-through"/,
    )
  })
})
