// Measures how long an outside write takes to reach the cache through the change stream: from the moment a pg
// UPDATE commits (as its client sees it) to the follower's bump landing (onInvalidate) and to the other instance's
// version of the model changing (bus). Prints p50/p99. Run: node --import tsx test/support/changes-lag.ts [writes]
import pg from 'pg'
import { cache } from 'prisma-strata'
import { createPostgresDatabase } from '../../prisma/database.ts'
import { newClient } from './matrix.ts'
import { redisUrl, startPostgresServer, stopAll } from './services.ts'

const writes = Number(process.argv[2] ?? 300)
// synchronous_commit on, as on a production server: the throwaway default (off) delays WAL flushes, and logical
// decoding only reads flushed WAL.
const server = await startPostgresServer({ settings: ['wal_level=logical', 'synchronous_commit=on'] })
const db = await createPostgresDatabase(server.url)
const sql = new pg.Client({ connectionString: db.url })
await sql.connect()
await sql.query('CREATE PUBLICATION strata FOR ALL TABLES')
await sql.query(`SELECT pg_create_logical_replication_slot('strata', 'pgoutput')`)
const redis = await redisUrl()
const prefix = `lag${process.pid}`
const bumped: number[] = []
const make = () =>
  newClient('postgres', db.adapter()).$extends(
    cache({
      redis,
      prefix,
      changes: { postgres: { connectionString: db.url } },
      onInvalidate: () => bumped.push(performance.now()),
    }),
  )
const a = make()
const b = make()
await a.$cache.whenReady(5000)
await b.$cache.whenReady(5000)
while (!a.$cache.stats().changes?.following && !b.$cache.stats().changes?.following)
  await new Promise((r) => setTimeout(r, 10))
const [, other] = a.$cache.stats().changes?.following ? [a, b] : [b, a]
const { rows } = await sql.query(`INSERT INTO "User" (email, name) VALUES ('lag@x', 'v') RETURNING id`)
await new Promise((r) => setTimeout(r, 500))
const toBump: number[] = []
const toOther: number[] = []
for (let i = 0; i < writes; i++) {
  const before = await other.$cache.versionTag({ models: ['User'] })
  const n = bumped.length
  await sql.query(`UPDATE "User" SET name = $1 WHERE id = $2`, [`v${i}`, rows[0].id])
  const committed = performance.now()
  let seen: number | undefined
  while (bumped.length === n || seen === undefined) {
    if (seen === undefined && (await other.$cache.versionTag({ models: ['User'] })) !== before) seen = performance.now()
    await new Promise((r) => setTimeout(r, 0))
  }
  toBump.push((bumped[n] as number) - committed)
  toOther.push(seen - committed)
  await new Promise((r) => setTimeout(r, 5))
}
const pct = (xs: number[], p: number) =>
  [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]
const show = (xs: number[]) =>
  `p50 ${pct(xs, 50)?.toFixed(2)} ms, p99 ${pct(xs, 99)?.toFixed(2)} ms, max ${Math.max(...xs).toFixed(2)} ms`
console.log(`${writes} outside UPDATEs, one at a time`)
console.log(`commit -> follower's bump in Redis: ${show(toBump)}`)
console.log(`commit -> other instance's version changed: ${show(toOther)}`)
for (const c of [a, b]) {
  await c.$cache.close()
  await c.$disconnect()
}
await sql.end()
await db.drop()
await stopAll()
process.exit(0)
