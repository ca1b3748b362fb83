// Where the app mix's precise invalidation misses beyond the ideal cache: the mix's operations, one at a time, on
// one two-tier Strata client (the build; default options but the TTL), each read's outcome (Strata's miss counter) next to the
// ideal's (a miss only for a query never answered before or whose answer changed since). One at a time, so every
// miss is the read's own; a read the ideal hits and Strata misses is imprecision (or an entry past its TTL).
//
//   npx tsx src/probe/app-mix-misses.ts [warm-up ops] [counted ops]      TTL=seconds (default 86400)
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import { cache } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { createPostgresDatabase } from '../../../../prisma/database.ts'
import { seedApp } from '../scenarios/app-mix-data.ts'
import { IdealCeiling } from '../scenarios/app-mix-ideal.ts'
import { type AppClient, appOperations, type KindName, kinds } from '../scenarios/app-mix-ops.ts'

const [warmup = 20_000, counted = 8_000] = process.argv.slice(2).map(Number)
const sizes = { users: 1000, posts: 10_000, commentsPerPost: 3 }
const db = await createPostgresDatabase(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres')
await seedApp(db.url, sizes)
const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }), errorFormat: 'minimal' })
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const ttl = Number(process.env.TTL ?? 86_400)
const cached = base.$extends(cache({ redis, prefix: `app-mix-misses-${process.pid}`, ttl }))
if (!(await cached.$cache.whenReady(10_000))) throw new Error('the bus did not subscribe')
const client = cached as unknown as AppClient

const ops = [
  ...appOperations(warmup, { ...sizes, s: 1 }, 0, -warmup),
  ...appOperations(counted, { ...sizes, s: 1 }, 1, 0),
]
const ideal = new IdealCeiling()
const counts = new Map<KindName, { reads: number; strata: number; idealOnly: number }>()
for (const [i, op] of ops.entries()) {
  const kind = kinds[op.kind]
  if (kind.write) {
    await kind.run(client, op)
    continue
  }
  const misses = cached.$cache.stats().misses
  const answer = await kind.run(client, op)
  const strataHit = cached.$cache.stats().misses === misses
  const idealHit = ideal.observe(op, answer, i >= warmup)
  if (i < warmup) continue
  const c = counts.get(op.kind) ?? { reads: 0, strata: 0, idealOnly: 0 }
  counts.set(op.kind, c)
  c.reads++
  if (strataHit) c.strata++
  if (idealHit && !strataHit) c.idealOnly++
}
const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`
console.log(`${warmup} warm-up, ${counted} counted operations, ttl ${ttl} s`)
for (const [kind, c] of counts) {
  console.log(
    `${kinds[kind].label.padEnd(20)} reads ${c.reads}: ideal ${pct(ideal.byKind[kind].hits, c.reads)}, Strata ${pct(c.strata, c.reads)}; ` +
      `${c.idealOnly} missed that the ideal hit`,
  )
}
await cached.$cache.close()
await base.$disconnect()
redis.disconnect()
await db.drop()
