// The client's global `omit` is part of what a read returns, so it is part of an entry's identity: two clients on
// one prefix, one omitting a field, never get each other's results. Write-through rows hold the whole row and are
// projected with the reading client's own omit.
import { type CacheOptions, cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { matrix, newClient, newDatabase, type RawClient, waitForBus } from './support/matrix.ts'
import { redisUrl } from './support/services.ts'

const omit = { user: { email: true } }

describe.each(matrix.filter((c) => c.tiers === 'two-tier'))('global omit: $provider / $tiers', (c) => {
  let db: TestDatabase
  let seq = 0
  const closing: Array<{ $disconnect(): Promise<void> }> = []

  function client(options: { omit?: typeof omit } = {}): RawClient {
    const made = newClient(c.provider, db.adapter(), options)
    closing.push(made)
    return made
  }

  /** A plain and an omitting client, cached on one prefix, and their uncached oracles. */
  async function pair(options: CacheOptions = {}) {
    const url = await redisUrl()
    const prefix = `om${process.pid}x${Date.now().toString(36)}x${seq++}`
    const extend = (base: RawClient) => {
      const extended = base.$extends(cache({ redis: url, prefix, ...options }))
      closing.unshift({ $disconnect: () => extended.$cache.close() })
      return extended
    }
    const plain = extend(client())
    const omitting = extend(client({ omit }))
    await waitForBus(plain)
    await waitForBus(omitting)
    return { plain, omitting, plainOracle: client(), omittingOracle: client({ omit }) }
  }

  beforeAll(async () => {
    db = await newDatabase(c.provider)
    const raw = client()
    await raw.user.create({ data: { id: 1, email: 'a@x', name: 'A', posts: { create: { id: 1, title: 't' } } } })
  })
  afterAll(async () => {
    for (const made of closing) await made.$disconnect()
    await db?.drop()
  })

  it('a client never gets rows shaped by another client’s omit, either way round, nested too', async () => {
    const { plain, omitting, plainOracle, omittingOracle } = await pair()
    const reads = [
      (p: RawClient) => p.user.findMany(),
      (p: RawClient) => p.user.findUnique({ where: { id: 1 } }),
      (p: RawClient) => p.post.findMany({ include: { author: true } }),
      (p: RawClient) => p.post.findUnique({ where: { id: 1 } }).author(),
    ]
    for (const read of reads.slice(0, 2)) {
      await read(plain as never)
      expect(await read(omitting as never)).toEqual(await read(omittingOracle))
    }
    for (const read of reads.slice(2)) {
      await read(omitting as never)
      expect(await read(plain as never)).toEqual(await read(plainOracle))
    }
  })

  it('write-through rows are projected with the reading client’s omit', async () => {
    const { plain, omitting, plainOracle, omittingOracle } = await pair({
      models: { User: { strategy: 'write-through' } },
    })
    const byId = { where: { id: 1 } }
    const byEmail = { where: { email: 'a@x' } }
    await omitting.user.findUnique(byId)
    expect(await plain.user.findUnique(byId)).toEqual(await plainOracle.user.findUnique(byId))
    await plain.user.findUnique(byEmail)
    expect(await omitting.user.findUnique(byEmail)).toEqual(await omittingOracle.user.findUnique(byEmail))
    await omitting.user.update({ where: { id: 1 }, data: { name: 'put by the omitting client' } })
    expect(await omitting.user.findUnique(byId)).toEqual(await omittingOracle.user.findUnique(byId))
    // The other instance learns of the write through the bus (bounded staleness, measured elsewhere); what this
    // test is about is the shape it then reads: the row the omitting client put, with its own fields.
    const want = await plainOracle.user.findUnique(byId)
    for (let i = 0; i < 500 && (await plain.user.findUnique(byId))?.name !== want?.name; i++) {
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(await plain.user.findUnique(byId)).toEqual(want)
  })
})
