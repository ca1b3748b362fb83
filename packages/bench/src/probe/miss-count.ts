// One contender of the miss (or Redis-hit) comparison, alone in its process, for counting instructions under
// valgrind: times on this shared machine drift with load, instruction counts do not. The timed calls are
// bracketed by `os.loadavg()` and `os.uptime()`, which nothing else calls, so callgrind can count them alone:
//
//   DB=$(npx tsx src/probe/miss-count.ts setup)        # a PostgreSQL database with one post, kept
//   DB=... SLOW=1 valgrind --tool=callgrind --separate-threads=yes --zero-before=uv_loadavg --dump-before=uv_uptime \
//     --callgrind-out-file=/tmp/cg.two-tier node --import tsx src/probe/miss-count.ts two-tier 300 500
//   (the main thread's first dump, /tmp/cg.two-tier.1-01, holds the 300 timed calls alone; the 500 before them warm up)
//
// Contenders: prisma, model-noop, get-sql, get-sql-set, local, redis, two-tier (misses: new arguments each call);
// hit-redis (a Redis-only Strata hit), hit-bare (a bare getBuffer + unpack of the same row). Uses the build of
// prisma-strata (`pnpm build` after a change), as users do: tsx's transform of the source names every closure with
// `Object.defineProperty` when it is made, which the build does not (153k instructions per Redis hit from the source,
// 140k from the build).

import { loadavg, uptime } from 'node:os'
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import { Packr } from 'msgpackr'
import { cache } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { createPostgresDatabase } from '../../../../prisma/database.ts'

const [mode = 'prisma', callsText = '300', warmupText = '300'] = process.argv.slice(2)
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

if (mode === 'setup') {
  const db = await createPostgresDatabase(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres')
  const admin = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) })
  await admin.post.create({ data: { title: 'hot', published: true, views: 0 } })
  await admin.$disconnect()
  console.log(db.url)
  process.exit(0)
}

const url = process.env.DB
if (!url) throw new Error('DB: the URL `miss-count.ts setup` printed')
const calls = Number(callsText)
const warmup = Number(warmupText)
const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }), errorFormat: 'minimal' })
const redis = new Redis(redisUrl)
const prefix = `miss-count-${process.pid}`
const post = (await client.post.findFirst({ orderBy: { id: 'asc' } })) as { id: number }
let n = 0
const args = () => ({ where: { id: post.id, views: { lt: 1_000_000_000 + n++ } } })
type Find = { findFirst(a: unknown): PromiseLike<unknown>; findUnique(a: unknown): PromiseLike<unknown> }
// Under valgrind everything runs some 50 times slower: Redis's budget and the bus's beats are stretched to match.
const slow = process.env.SLOW ? { redisTimeout: 60_000, heartbeat: 5_000, staleness: 600_000 } : {}
const strata = (options: Parameters<typeof cache>[0]) => {
  const c = client.$extends(cache({ ttl: 600, prefix, ...slow, ...options }))
  return { posts: c.post as unknown as Find, handle: c.$cache }
}
const packr = new Packr({ moreTypes: true, int64AsType: 'bigint', useRecords: true })
const rawKey = `${prefix}:raw`

let call: () => PromiseLike<unknown>
let handle: { whenReady(ms: number): Promise<boolean>; close(): Promise<void> } | undefined
switch (mode) {
  case 'prisma':
    call = () => client.post.findFirst(args())
    break
  case 'model-noop': {
    const noop = client.$extends({
      model: {
        post: {
          findFirst(this: unknown, a: unknown) {
            const parent = (this as { $parent: { post: Find } }).$parent
            return parent.post.findFirst(a)
          },
        },
      },
    })
    call = () => (noop.post as unknown as Find).findFirst(args())
    break
  }
  case 'get-sql':
    call = async () => {
      await redis.getBuffer(`${prefix}:none`)
      return client.post.findFirst(args())
    }
    break
  case 'get-sql-set':
    call = async () => {
      await redis.getBuffer(`${prefix}:none`)
      const r = await client.post.findFirst(args())
      void redis.set(`${prefix}:some`, Buffer.alloc(200), 'PX', 10000)
      return r
    }
    break
  case 'local':
  case 'redis':
  case 'two-tier': {
    const s = strata(mode === 'local' ? {} : mode === 'redis' ? { redis, local: false } : { redis })
    handle = s.handle
    call = () => s.posts.findFirst(args())
    break
  }
  case 'hit-redis': {
    const s = strata({ redis, local: false })
    handle = s.handle
    call = () => s.posts.findUnique({ where: { id: post.id } })
    break
  }
  case 'hit-bare': {
    const row = await client.post.findUnique({ where: { id: post.id } })
    await redis.set(rawKey, packr.pack(row), 'PX', 600_000)
    call = async () => packr.unpack((await redis.getBuffer(rawKey)) as Buffer)
    break
  }
  default:
    throw new Error(`unknown contender ${mode}`)
}
if (handle && !(await handle.whenReady(60_000))) throw new Error('the bus did not subscribe')
for (let i = 0; i < warmup; i++) await call()
loadavg()
const cpu0 = process.cpuUsage()
const t0 = performance.now()
for (let i = 0; i < calls; i++) await call()
uptime()
const wall = ((performance.now() - t0) * 1000) / calls
const cpu = process.cpuUsage(cpu0)
console.log(
  `${mode} ${calls}: ${wall.toFixed(0)} µs wall, ${((cpu.user + cpu.system) / calls).toFixed(0)} µs CPU per call`,
)
await handle?.close()
await redis.del(rawKey, `${prefix}:some`)
redis.disconnect()
await client.$disconnect()
