// Two builds of prisma-strata side by side in one process: a miss (or a Redis hit) of this checkout's build against
// the same read of another build (`BASE`, the path of its dist/index.js), with uncached Prisma, interleaved round by
// round; ratios are medians of per-round ratios. To build another commit beside this checkout:
//
//   git worktree add /tmp/strata-base <commit> && (cd /tmp/strata-base && pnpm install && pnpm build)
//   BASE=/tmp/strata-base/packages/prisma-strata/dist/index.js npx tsx src/probe/miss-ab.ts [two|redis|local|redis-hit] [calls] [rounds]
//
// PostgreSQL (DATABASE_URL), or SQLite with DB=sqlite; Redis at REDIS_URL.
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import { type CacheOptions, cache } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { createPostgresDatabase, createSqliteDatabase, type TestDatabase } from '../../../../prisma/database.ts'
import { withCleanup } from '../scenarios/cleanup.ts'

const base = process.env.BASE
if (!base) throw new Error('BASE: the path of the other build (…/packages/prisma-strata/dist/index.js); see the header')
const mode = process.argv[2] ?? 'two'
const calls = Number(process.argv[3] ?? 1000)
const rounds = Number(process.argv[4] ?? 16)
type Find = { findFirst(args: unknown): Promise<unknown> }
type Cached = { post: Find; $cache: { whenReady(ms: number): Promise<boolean>; close(): Promise<void> } }

await withCleanup(async (defer) => {
  const other = (await import(base)) as { cache: typeof cache }
  let db: TestDatabase
  let client: () => PrismaClient
  if (process.env.DB === 'sqlite') {
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3')
    db = await createSqliteDatabase()
    client = () =>
      new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: db.url }) as never, errorFormat: 'minimal' })
  } else {
    db = await createPostgresDatabase(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres')
    client = () => new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }), errorFormat: 'minimal' })
  }
  defer(() => db.drop())
  const plain = client()
  defer(() => plain.$disconnect())
  const post = await plain.post.create({ data: { title: 'hot', published: true, views: 0 } })
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  defer(() => redis.disconnect())
  const options = (prefix: string): CacheOptions => {
    if (mode === 'local') return { ttl: 600 }
    const tiers = mode === 'two' ? {} : { local: false as const }
    return { ttl: 600, redis, prefix: `${prefix}-${process.pid}`, ...tiers }
  }
  const open = async (make: typeof cache, prefix: string) => {
    const extended = client().$extends(make(options(prefix))) as unknown as Cached
    defer(() => extended.$cache.close())
    await extended.$cache.whenReady(5000)
    return extended
  }
  const before = await open(other.cache, 'ab-base')
  const now = await open(cache, 'ab-this')
  let n = 0
  // A miss: new arguments each call. A Redis hit: the same read every call.
  const args = () => ({ where: { id: post.id, views: { lt: 1_000_000_000 + (mode === 'redis-hit' ? 0 : n++) } } })
  const contenders: Array<[string, () => Promise<unknown>]> = [
    ['prisma', () => plain.post.findFirst(args())],
    ['base', () => before.post.findFirst(args())],
    ['this', () => now.post.findFirst(args())],
  ]
  for (const [, call] of contenders) for (let i = 0; i < 1000; i++) await call()
  const wall = new Map<string, number[]>(contenders.map(([name]) => [name, []]))
  const cpu = new Map<string, number[]>(contenders.map(([name]) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const [name, call] = contenders[(k + round) % contenders.length] as [string, () => Promise<unknown>]
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < calls; i++) await call()
      const used = process.cpuUsage(cpu0)
      wall.get(name)?.push(((performance.now() - t0) * 1000) / calls)
      cpu.get(name)?.push((used.user + used.system) / calls)
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
  const ratio = (a: string, b: string) => {
    const of = wall.get(b) as number[]
    return median((wall.get(a) as number[]).map((x, i) => x / (of[i] as number)))
  }
  for (const [name] of contenders) {
    console.log(
      `${mode} ${name.padEnd(6)} median ${median(wall.get(name) as number[]).toFixed(1)} µs, ` +
        `CPU ${median(cpu.get(name) as number[]).toFixed(1)} µs/call, ÷ Prisma ${ratio(name, 'prisma').toFixed(3)}, ` +
        `÷ base ${ratio(name, 'base').toFixed(3)}`,
    )
  }
})
