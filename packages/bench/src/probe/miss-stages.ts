// Where a miss's time goes: uncached Prisma against Strata's misses (two-tier warm versions, two-tier cold versions,
// Redis-only, local-only), contenders interleaved round by round, and the Redis commands per miss counted by a
// throwaway redis-server. Also the round trips of a bare GET and of the readVersions script for reference.
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import { type CacheOptions, cache } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { createPostgresDatabase } from '../../../../prisma/database.ts'
import { pairedRatio, Samples, timed, untimed } from '../measure.ts'
import { withCleanup } from '../scenarios/cleanup.ts'
import { startRedisServer } from '../scenarios/redis-server.ts'

const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
const rounds = Number(process.env.ROUNDS ?? 10)
const calls = Number(process.env.CALLS ?? 200)

await withCleanup(async (defer) => {
  const db = await createPostgresDatabase(url)
  defer(() => db.drop())
  const server = await startRedisServer()
  defer(() => server.stop())
  const newClient = () => {
    const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }), errorFormat: 'minimal' })
    defer(() => client.$disconnect())
    return client
  }
  const admin = newClient()
  const post = await admin.post.create({ data: { title: 'hot', published: true, views: 0 } })
  const redis = new Redis(server.url)
  defer(() => redis.disconnect())
  const open = async (options: CacheOptions) => {
    const c = newClient().$extends(cache({ ttl: 600, ...options }))
    defer(() => c.$cache.close())
    await c.$cache.whenReady(5000)
    return c
  }
  const plain = newClient()
  // Prisma's own extension floors: a pass-through query hook, and a pass-through model method (Strata's component).
  const noopQuery = newClient().$extends({
    query: { $allModels: { $allOperations: ({ args, query }) => query(args) } },
  })
  const noopModel = newClient().$extends({
    model: {
      post: {
        findFirst(this: unknown, a: unknown) {
          const parent = (this as { $parent: { post: { findFirst(a: unknown): PromiseLike<unknown> } } }).$parent
          return parent.post.findFirst(a)
        },
      },
    },
  })
  // Experiments: the two-tier instance's client with its GET and/or SET answered without Redis.
  const fake = process.env.FAKE ?? ''
  const wrapped = new Proxy(redis, {
    get(target, prop) {
      if (prop === 'getBuffer' && fake.includes('get')) return async () => null
      if (prop === 'set' && fake.includes('set')) return async () => 'OK'
      const v = Reflect.get(target, prop)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  const twoTier = await open({ redis: wrapped, prefix: 'p-t' })
  const redisOnly = await open({ redis, prefix: 'p-r', local: false })
  const local = await open({})
  let n = 0
  const args = () => ({ where: { id: post.id, views: { lt: 1_000_000_000 + n++ } } })
  type Find = { findFirst(a: unknown): PromiseLike<unknown> }
  const contenders: Array<{ key: string; call: () => PromiseLike<unknown> }> = [
    { key: 'prisma', call: () => plain.post.findFirst(args()) },
    { key: 'noop query ext', call: () => noopQuery.post.findFirst(args()) },
    { key: 'noop model ext', call: () => (noopModel.post as unknown as Find).findFirst(args()) },
    { key: 'two-tier warm', call: () => (twoTier.post as unknown as Find).findFirst(args()) },
    {
      key: 'two-tier cold',
      // A new tag each call: a version this process does not know, read from Redis before the SQL.
      call: () => (twoTier.post as unknown as Find).findFirst({ ...args(), cache: { tags: [`t${n}`] } }),
    },
    {
      // No cache: a bare GET before the same query, and a bare SET after it, as a miss sends them.
      key: 'bare get+sql',
      call: async () => {
        await redis.getBuffer('p-x:none')
        return plain.post.findFirst(args())
      },
    },
    {
      key: 'bare get+sql+set',
      call: async () => {
        await redis.getBuffer('p-x:none')
        const r = await plain.post.findFirst(args())
        void redis.set('p-x:some', Buffer.alloc(200), 'PX', 10000)
        return r
      },
    },
    {
      // The previous call's SET rides with this call's GET, in one pipeline.
      key: 'bare piggyback',
      call: async () => {
        await redis.pipeline().set('p-x:some', Buffer.alloc(200), 'PX', 10000).getBuffer('p-x:none').exec()
        return plain.post.findFirst(args())
      },
    },
    { key: 'redis-only', call: () => (redisOnly.post as unknown as Find).findFirst(args()) },
    { key: 'local-only', call: () => (local.post as unknown as Find).findFirst(args()) },
  ]
  const only = process.env.ONLY?.split(',')
  const list = only ? contenders.filter((c) => only.includes(c.key)) : contenders
  for (const c of list) await untimed(c.call, 300)
  const samples = new Map(list.map((c) => [c.key, new Samples(rounds * calls)]))
  const commands = new Map<string, Record<string, number>>()
  const cpuUs = new Map<string, number>()
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < list.length; i++) {
      const c = list[(i + round) % list.length] as (typeof list)[0]
      const before = await server.commandCalls()
      const cpu0 = process.cpuUsage()
      await timed(c.call, calls, samples.get(c.key) as Samples)
      const cpu1 = process.cpuUsage(cpu0)
      cpuUs.set(c.key, (cpuUs.get(c.key) ?? 0) + cpu1.user + cpu1.system)
      // Fills and lease releases go out after the answer: let them land before counting.
      await new Promise((r) => setTimeout(r, 20))
      const after = await server.commandCalls()
      const sum = commands.get(c.key) ?? {}
      for (const [name, v] of Object.entries(after)) {
        if (name === 'info') continue
        const d = v - (before[name] ?? 0)
        if (d) sum[name] = (sum[name] ?? 0) + d
      }
      commands.set(c.key, sum)
    }
  }
  const prisma = (samples.get('prisma') ?? samples.values().next().value) as Samples
  // The floor of any cache that asks Redis before its SQL: one loopback round trip in front of the same query.
  const floor = samples.get('bare get+sql')
  for (const c of list) {
    const s = (samples.get(c.key) as Samples).summary()
    const per = Object.entries(commands.get(c.key) ?? {})
      .map(([k, v]) => `${k} ${(v / (rounds * calls)).toFixed(2)}`)
      .join(', ')
    console.log(
      `${c.key.padEnd(16)} median ${s.median.toFixed(0).padStart(5)} µs  p90 ${s.p90.toFixed(0).padStart(5)}  ` +
        `÷prisma ${pairedRatio(samples.get(c.key) as Samples, prisma).toFixed(2)}  ` +
        `${floor ? `÷get+sql ${pairedRatio(samples.get(c.key) as Samples, floor).toFixed(2)}  ` : ''}cpu ${((cpuUs.get(c.key) ?? 0) / (rounds * calls)).toFixed(0)} µs/call  commands/miss: ${per}`,
    )
  }
  // Bare round trips, for reference.
  const get = new Samples(2000)
  await timed(() => redis.getBuffer('p-x:none'), 2000, get)
  const ping = new Samples(2000)
  await timed(() => redis.ping(), 2000, ping)
  console.log(`bare GET median ${get.summary().median.toFixed(0)} µs, PING ${ping.summary().median.toFixed(0)} µs`)
})
