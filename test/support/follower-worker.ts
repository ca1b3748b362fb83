// A process that follows a database's change stream and is then killed (SIGKILL, no close, its lease left to
// expire): test/changes.test.ts checks that another instance takes over. Prints `following` once it follows.
import { PrismaPg } from '@prisma/adapter-pg'
import { cache } from 'prisma-strata'
import { newClient } from './matrix.ts'

const url = process.env.FOLLOW_DATABASE_URL as string
const prisma = newClient('postgres', new PrismaPg({ connectionString: url })).$extends(
  cache({
    redis: process.env.REDIS_URL,
    prefix: process.env.FOLLOW_PREFIX,
    changes: { postgres: { connectionString: url, slot: process.env.FOLLOW_SLOT }, leaseTimeout: 1000 },
  }),
)
while (!prisma.$cache.stats().changes?.following) await new Promise((r) => setTimeout(r, 20))
process.stdout.write('following\n')
// Stays until killed.
setInterval(() => {}, 1000)
