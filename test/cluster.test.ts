// design invariant 10, docs/design.md: cluster-safe from day one. A Redis Cluster of three masters, started from local binaries:
// version scripts touch one slot (the `{prefix}` hash tag), entries spread over the masters, and the bus carries
// bumps between two instances. A master that dies turns off only the entries it holds.
import { execFileSync } from 'node:child_process'
import { Cluster } from 'ioredis'
import { type CacheOptions, cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { type CachedClient, newClient, newDatabase, type RawClient, waitForBus } from './support/matrix.ts'
import { type LocalServer, startRedisServer } from './support/services.ts'

describe('Redis Cluster (3 masters)', () => {
  const servers: LocalServer[] = []
  const clusters: Cluster[] = []
  const clients: CachedClient[] = []
  let db: TestDatabase
  let raw: RawClient

  const instance = async (options: CacheOptions = {}) => {
    const cluster = new Cluster(servers.map((s) => ({ host: '127.0.0.1', port: s.port })))
    clusters.push(cluster)
    const client = newClient('sqlite', db.adapter()).$extends(cache({ redis: cluster, prefix: 'cl', ...options }))
    clients.push(client)
    await waitForBus(client)
    return { client, cluster }
  }

  beforeAll(async () => {
    // Without full coverage required, the masters left keep serving their slots when one dies (no replica here).
    const args = ['--cluster-enabled', 'yes', '--cluster-require-full-coverage', 'no']
    for (let i = 0; i < 3; i++) servers.push(await startRedisServer({ args }))
    execFileSync('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    const deadline = Date.now() + 15_000
    for (const s of servers) {
      while (
        !execFileSync('redis-cli', ['-p', String(s.port), 'cluster', 'info'], { encoding: 'utf8' }).includes(
          'cluster_state:ok',
        )
      ) {
        if (Date.now() > deadline) throw new Error('the test cluster did not reach cluster_state:ok')
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    db = await newDatabase('sqlite')
    raw = newClient('sqlite', db.adapter())
  })

  afterAll(async () => {
    for (const c of clients) {
      await c.$cache.close()
      await c.$disconnect()
    }
    for (const c of clusters) c.disconnect()
    await raw?.$disconnect()
    await db?.drop()
    for (const s of servers) await s.stop()
  })

  it('serves hits, spreads entries over the masters, and invalidates across instances', async () => {
    // Counts every hit and no error: a generous timeout, so a loaded machine's slow answer is not a miss here.
    const a = await instance({ redisTimeout: 5000 })
    const b = await instance({ redisTimeout: 5000 })
    const users = await Promise.all(
      Array.from({ length: 12 }, (_, i) => raw.user.create({ data: { email: `c${i}@x`, name: `n${i}` } })),
    )
    for (const u of users) await a.client.user.findUnique({ where: { id: u.id }, include: { posts: true } })
    for (const u of users) {
      expect(await b.client.user.findUnique({ where: { id: u.id }, include: { posts: true } })).toEqual(
        await raw.user.findUnique({ where: { id: u.id }, include: { posts: true } }),
      )
    }
    expect(b.client.$cache.stats().redisHits).toBe(users.length)
    expect(b.client.$cache.stats().errors).toEqual({})

    // Entries live on more than one master.
    const holders = await Promise.all(a.cluster.nodes('master').map((node) => node.keys('cl:e:*')))
    expect(holders.filter((keys) => keys.length > 0).length).toBeGreaterThan(1)

    const target = users[0]!
    await a.client.post.create({ data: { title: 'cluster', authorId: target.id } })
    const started = Date.now()
    let seen = await b.client.user.findUnique({ where: { id: target.id }, include: { posts: true } })
    while (seen?.posts.length !== 1 && Date.now() - started < 2000) {
      await new Promise((r) => setTimeout(r, 2))
      seen = await b.client.user.findUnique({ where: { id: target.id }, include: { posts: true } })
    }
    expect(seen?.posts.map((p) => p.title)).toEqual(['cluster'])
    expect(a.client.$cache.stats().errors).toEqual({})
  })

  it('one master down (not the versions slot): entries on the others are still Redis hits, answers stay correct', async () => {
    const prefix = 'cl-down'
    const a = await instance({ prefix })
    const b = await instance({ prefix, local: false })
    const users = await Promise.all(
      Array.from({ length: 24 }, (_, i) => raw.user.create({ data: { email: `d${i}@x`, name: `d${i}` } })),
    )
    const read = (client: CachedClient, id: number) => client.user.findUnique({ where: { id } })
    for (const u of users) await read(a.client, u.id)
    const slot = Number(await a.cluster.call('CLUSTER', 'KEYSLOT', `{${prefix}}`))
    const versionsNode = a.cluster.slots[slot]?.[0]
    const masters = a.cluster.nodes('master')
    const entries = await Promise.all(masters.map((node) => node.keys(`${prefix}:e:*`)))
    const victim = masters.findIndex(
      (node, i) => `127.0.0.1:${node.options.port}` !== versionsNode && entries[i]?.length,
    )
    expect(victim).toBeGreaterThanOrEqual(0)
    const survivors = entries.filter((_, i) => i !== victim).reduce((n, keys) => n + keys.length, 0)
    expect(survivors).toBeGreaterThan(0)
    const server = servers.find((s) => s.port === masters[victim]?.options.port) as LocalServer
    process.kill(server.pid, 'SIGKILL')

    // Rounds until the dead node's breaker is open and one whole round is counted: every entry on a live master is a
    // Redis hit. (On a loaded machine one GET of a live master can outlast the timeout and count a miss; that round
    // proves nothing either way, so the next one is counted. A cache that gave up on the live masters never gets there.)
    let hits = 0
    for (let round = 0; round < 12 && hits !== survivors; round++) {
      const before = b.client.$cache.stats().redisHits
      for (const u of users)
        expect(await read(b.client, u.id)).toEqual(await raw.user.findUnique({ where: { id: u.id } }))
      hits = round < 2 ? -1 : b.client.$cache.stats().redisHits - before
    }
    expect(hits).toBe(survivors)
  })
})
