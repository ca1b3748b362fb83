// What following the change stream costs in hits when the writes are Prisma's own: each is bumped by the writer at
// once, then again when the stream brings it back, which makes entries filled in between stale a second time; and the
// stream's bump of an update or delete is coarser (every predicate of the model) unless the table sends old rows
// (REPLICA IDENTITY FULL). Three Strata clients take turns on one write-heavy mix through Prisma: without `changes`,
// with it, and with it on a table with REPLICA IDENTITY FULL. Each "with" client follows a slot of its own.
import type pg from 'pg'
import { cache } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import type { TestDatabase } from '../../../../prisma/database.ts'
import { Rng } from '../../../../test/support/differential/random.ts'
import type { Defer } from './cleanup.ts'
import { zipf } from './zipf.ts'

const USERS = 1000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Contender {
  label: string
  slot: string | undefined
  identity: 'DEFAULT' | 'FULL'
}

const contenders: Contender[] = [
  { label: 'changes off', slot: undefined, identity: 'DEFAULT' },
  { label: 'changes on', slot: 'cost_default', identity: 'DEFAULT' },
  { label: 'changes on, REPLICA IDENTITY FULL', slot: 'cost_full', identity: 'FULL' },
]

export async function measureDoubleBump(
  db: TestDatabase,
  sql: pg.Pool,
  redisUrl: string,
  defer: Defer,
  config: { ops: number; rounds: number; writeShare: number },
) {
  await sql.query(
    `INSERT INTO "User" (email, name) SELECT 'cost' || g || '@x', 'n' FROM generate_series(1, ${USERS}) g`,
  )
  const ids = (await sql.query(`SELECT id FROM "User" WHERE email LIKE 'cost%' ORDER BY id`)).rows.map(
    (r) => r.id as number,
  )
  for (const c of contenders) {
    if (c.slot) await sql.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [c.slot])
  }
  const clients = contenders.map((c, index) =>
    new PrismaClient({ adapter: db.adapter() as never }).$extends(
      cache({
        redis: redisUrl,
        prefix: `cost${index}`,
        ...(c.slot ? { changes: { postgres: { connectionString: db.url, slot: c.slot } } } : {}),
      }),
    ),
  )
  for (const client of clients) {
    defer(() => client.$disconnect())
    defer(() => client.$cache.close())
    await client.$cache.whenReady(5000)
  }
  for (const [i, c] of contenders.entries()) {
    if (c.slot) while (!clients[i]?.$cache.stats().changes?.following) await sleep(10)
  }
  /**
   * Every slot confirmed past a marker written now (a change each follower bumps, then confirms): no turn sees the
   * stream's bumps of the writes of the one before.
   */
  const catchUp = async () => {
    await sql.query(`INSERT INTO "AuditLog" (action) VALUES ('turn')`)
    const at = (await sql.query('SELECT pg_current_wal_insert_lsn() AS at')).rows[0].at as string
    for (;;) {
      const { rows } = await sql.query(
        `SELECT bool_and(confirmed_flush_lsn >= $1::pg_lsn) AS done FROM pg_replication_slots WHERE slot_name LIKE 'cost_%'`,
        [at],
      )
      if (rows[0].done === true) return
      await sleep(20)
    }
  }
  const pick = zipf(ids.length)
  const totals = contenders.map(() => ({ hits: 0, misses: 0, reads: 0, writes: 0 }))
  for (let round = 0; round < config.rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (round + k) % contenders.length
      const c = contenders[i] as Contender
      const client = clients[i] as (typeof clients)[number]
      await sql.query(`ALTER TABLE "User" REPLICA IDENTITY ${c.identity}`)
      await catchUp()
      const t = totals[i] as (typeof totals)[number]
      const before = client.$cache.stats()
      const rng = new Rng(1000 + round)
      let next = 0
      const worker = async () => {
        while (next < config.ops) {
          next++
          const id = ids[pick(rng.next())] as number
          if (rng.chance(config.writeShare)) {
            await client.user.update({ where: { id }, data: { name: `r${round}-${next}` } })
            t.writes++
          } else {
            await client.user.findUnique({ where: { id } })
            t.reads++
          }
        }
      }
      await Promise.all([worker(), worker(), worker(), worker()])
      const after = client.$cache.stats()
      t.hits +=
        after.localHits + after.redisHits + after.coalesced - before.localHits - before.redisHits - before.coalesced
      t.misses += after.misses - before.misses
    }
  }
  await sql.query('ALTER TABLE "User" REPLICA IDENTITY DEFAULT')
  const rows = contenders.map((c, i) => {
    const t = totals[i] as (typeof totals)[number]
    return { contender: c.label, reads: t.reads, writes: t.writes, hitRatio: t.hits / (t.hits + t.misses) }
  })
  console.log(
    `Prisma's own writes seen twice: ${config.rounds} rounds × ${config.ops} ops per contender, ` +
      `${Math.round(config.writeShare * 100)}% update by id / findUnique by id, Zipf over ${USERS} users, 4 in flight`,
  )
  for (const r of rows) console.log(`  ${r.contender.padEnd(36)} hit ratio ${(r.hitRatio * 100).toFixed(1)}%`)
  return rows
}
