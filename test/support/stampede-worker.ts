// One "instance" of the cross-process stampede test: its own Prisma client, Redis connections and SQL counter.
// Says "ready" once its bus is subscribed, waits for "go" on stdin, fires its reads, prints what reached the
// database, and exits.
import { PrismaPg } from '@prisma/adapter-pg'
import { cache } from 'prisma-strata'
import { PrismaClient } from '../../generated/postgres/client/client.ts'
import { countingAdapter } from './counting-adapter.ts'

const { DB_URL, REDIS, PREFIX, LEASE, READS } = process.env as Record<string, string>
const counting = countingAdapter(new PrismaPg({ connectionString: DB_URL }))
const prisma = new PrismaClient({ adapter: counting.adapter }).$extends(
  // A generous Redis budget: this test counts queries; a Redis call timing out on a machine loaded by other test
  // files would send a read to the database (that degradation is the fault suite's subject, not this one's).
  cache({ redis: REDIS, prefix: PREFIX, lease: LEASE === '1' ? { wait: 2000 } : false, redisTimeout: 5000 }),
)
if (!(await prisma.$cache.whenReady(10_000))) throw new Error('bus not ready')
await prisma.post.count() // connect before the race
process.stdout.write('ready\n')
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()))
counting.reset()
const results = await Promise.all(
  Array.from({ length: Number(READS) }, () => prisma.post.findFirst({ where: { title: 'hot' }, cache: { ttl: 1 } })),
)
// close() first: it lets this instance's fill land in Redis, which the other instances may be waiting for.
await prisma.$cache.close()
const queries = counting.statements().filter((sql) => /select/i.test(sql) && sql.includes('"Post"')).length
const { errors } = prisma.$cache.stats()
process.stdout.write(`${JSON.stringify({ queries, errors, views: [...new Set(results.map((r) => r?.views))] })}\n`)
await prisma.$disconnect()
