// One "instance" of the cross-process stampede test: its own Prisma client, Redis connections and SQL counter, with
// default options (but a generous redisTimeout where the test says so). Says "ready" once its bus is subscribed,
// waits for "go" on stdin, fires its reads, prints what reached the database and what the cache counted, and exits.
// It knows no version before the burst: every read needs its versions from Redis.
import { PrismaPg } from '@prisma/adapter-pg'
import { cache } from 'prisma-strata'
import { PrismaClient } from '../../generated/postgres/client/client.ts'
import { countingAdapter } from './counting-adapter.ts'

const { DB_URL, REDIS, PREFIX, LEASE, READS, REDIS_TIMEOUT } = process.env as Record<string, string>
const counting = countingAdapter(new PrismaPg({ connectionString: DB_URL }))
const prisma = new PrismaClient({ adapter: counting.adapter }).$extends(
  cache({
    redis: REDIS,
    prefix: PREFIX,
    lease: LEASE === '1' ? { wait: 2000 } : false,
    ...(REDIS_TIMEOUT ? { redisTimeout: Number(REDIS_TIMEOUT) } : {}),
  }),
)
if (!(await prisma.$cache.whenReady(10_000))) throw new Error('bus not ready')
await prisma.$queryRaw`SELECT 1` // connect before the race, without learning a version
process.stdout.write('ready\n')
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()))
counting.reset()
const results = await Promise.all(
  Array.from({ length: Number(READS) }, () => prisma.post.findFirst({ where: { title: 'hot' }, cache: { ttl: 1 } })),
)
const queries = counting.statements().filter((sql) => /select/i.test(sql) && sql.includes('"Post"')).length
const { errors, misses, coalesced, bypasses, redisHits, localHits, hitRatio, leaseWaitsOut } = prisma.$cache.stats()
const views = [...new Set(results.map((r) => r?.views))]
// Reported before close(): the test may be holding Redis frozen, and a lease holder's fill, which the other
// instances wait for, is on its way in the background either way (close() lets it land before exiting).
process.stdout.write(
  `${JSON.stringify({ queries, errors, views, misses, coalesced, bypasses, redisHits, localHits, hitRatio, leaseWaitsOut })}\n`,
)
await prisma.$cache.close()
await prisma.$disconnect()
