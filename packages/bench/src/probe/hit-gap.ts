import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import { Packr } from 'msgpackr'
import { cache } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { startRedisServer } from '../scenarios/redis-server.ts'

const calls = Number(process.argv[2] ?? 2000)
const url = process.env.DB as string
const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }), errorFormat: 'minimal' })
const server = process.env.SYSTEM ? undefined : await startRedisServer()
const redis = new Redis(server?.url ?? 'redis://127.0.0.1:6379')
let tIssued = 0
let tReplied = 0
const traced = new Proxy(redis, {
  get(target, name) {
    if (name === 'getBuffer')
      return (key: string) => {
        tIssued = performance.now()
        return target.getBuffer(key).then((v) => {
          tReplied = performance.now()
          return v
        })
      }
    const value = (target as unknown as Record<string | symbol, unknown>)[name]
    return typeof value === 'function' ? value.bind(target) : value
  },
})
const strata = client.$extends(
  cache({
    ttl: 600,
    prefix: `hit-gap-${process.pid}`,
    redis: (process.env.TRACE ? traced : redis) as never,
    local: false,
  }),
)
await strata.$cache.whenReady(5000)
const extra: { $cache: { close(): Promise<void> } }[] = []
for (let i = 0; i < Number(process.env.EXTRA ?? 0); i++) {
  const c = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }), errorFormat: 'minimal' })
  const x = c.$extends(cache({ ttl: 600, prefix: `hit-gap-x${i}-${process.pid}`, redis: redis as never }))
  await x.$cache.whenReady(5000)
  extra.push(x)
}
const post = (await client.post.findFirst({ orderBy: { id: 'asc' } })) as { id: number }
await strata.post.findUnique({ where: { id: post.id } })
await new Promise((r) => setTimeout(r, 100))
const packr = new Packr()
await redis.set('hit-gap:bare', packr.pack(await client.post.findUnique({ where: { id: post.id } })))
const args = { where: { id: post.id } }
const contenders: Record<string, () => Promise<unknown>> = {
  bare: async () => packr.unpack((await redis.getBuffer('hit-gap:bare')) as Buffer),
  strata: () => strata.post.findUnique({ where: { id: post.id } }) as Promise<unknown>,
  strataSameArgs: () => strata.post.findUnique(args) as Promise<unknown>,
  bareTwoAwait: async () => {
    const b = await redis.getBuffer('hit-gap:bare')
    await null
    await null
    return packr.unpack(b as Buffer)
  },
}
extra.forEach((x, i) => {
  contenders[`extra${i}`] = () =>
    (x as unknown as typeof strata).post.findUnique({ where: { id: post.id } }) as Promise<unknown>
})
if (process.env.PRISMA) contenders.prisma = () => client.post.findUnique({ where: { id: post.id } }) as Promise<unknown>
if (process.env.ONLY)
  for (const k of Object.keys(contenders)) if (!process.env.ONLY.split(',').includes(k)) delete contenders[k]
for (const run of Object.values(contenders)) for (let i = 0; i < Number(process.env.WARM ?? 0); i++) await run()
const res: Record<string, number[]> = {}
const pos: Record<string, number[][]> = {}
let pre = 0,
  post2 = 0,
  n = 0
for (let round = 0; round < 10; round++) {
  for (const [name, run] of Object.entries(contenders)) {
    const t0 = performance.now()
    for (let i = 0; i < calls; i++) {
      const s = performance.now()
      await run()
      if (round > 2)
        (((pos[name] ??= [])[Math.min(9, Math.floor((i * 10) / calls))] ??= []) as number[]).push(
          (performance.now() - s) * 1000,
        )
      if (process.env.TRACE && name === 'strata' && round > 2) {
        pre += tIssued - s
        post2 += performance.now() - tReplied
        n++
      }
    }
    ;(res[name] ??= []).push(((performance.now() - t0) * 1000) / calls)
  }
}
const med = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)] as number
for (const [k, v] of Object.entries(res)) console.log(k.padEnd(16), med(v.slice(2)).toFixed(1), 'µs')
for (const [k, v] of Object.entries(pos))
  console.log(k.padEnd(16), 'by tenth of batch (median µs):', v.map((x) => med(x).toFixed(0)).join(' '))
if (n)
  console.log(
    'strata: call→GET issued',
    ((pre / n) * 1000).toFixed(1),
    'µs; reply→answer',
    ((post2 / n) * 1000).toFixed(1),
    'µs',
  )
console.log('redis hits', strata.$cache.stats().redisHits)
for (const x of extra) await x.$cache.close()
await strata.$cache.close()
redis.disconnect()
await client.$disconnect()
await server?.stop()
