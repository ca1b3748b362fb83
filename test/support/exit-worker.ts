// A script as a user writes one: open a client with Strata on Redis (by URL, so Strata owns the connection), read
// twice (the second is a hit), `$disconnect()`, and fall off the end. The parent test made the database (the schema
// engine it uses keeps timers of its own) and expects this process to exit on its own; it prints what the cache saw
// so the parent can tell the run was real.
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { cache } from 'prisma-strata'
import { newClient } from './matrix.ts'

const prisma = newClient('sqlite', new PrismaBetterSqlite3({ url: process.env.SQLITE_URL as string })).$extends(
  cache({ redis: process.env.REDIS_URL, prefix: `exit-${process.pid}` }),
)
const ready = await prisma.$cache.whenReady(5000)
await prisma.user.create({ data: { email: `exit-${process.pid}@x` } })
await prisma.user.findMany()
await prisma.user.findMany()
const stats = prisma.$cache.stats()
await prisma.$disconnect()
process.stdout.write(`${JSON.stringify({ ready, hits: stats.localHits + stats.redisHits })}\n`)
