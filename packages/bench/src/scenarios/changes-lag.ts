// Lag of the change stream (`changes`): outside writes (pg, not Prisma) at a steady rate, and for a sample of them
// the time from the writer seeing its commit to the follower's bump landing in Redis and to every instance's version
// of the model changing (what makes each one drop its cached entries). The cluster is a throwaway one with
// wal_level=logical, started by the test harness (the shared server usually runs with `replica`).
import pg from 'pg'
import { cache } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { createPostgresDatabase } from '../../../../prisma/database.ts'
import { startPostgresServer } from '../../../../test/support/services.ts'
import type { BenchOptions } from '../options.ts'
import { measureDoubleBump } from './changes-cost.ts'
import { withCleanup } from './cleanup.ts'
import { startRedisServer } from './redis-server.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function percentiles(xs: number[]) {
  const sorted = [...xs].sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN
  const round = (x: number) => Math.round(x * 100) / 100
  return { samples: xs.length, p50: round(at(50)), p99: round(at(99)), max: round(sorted.at(-1) ?? Number.NaN) }
}

export function runChangesLag(options: BenchOptions) {
  const { rate, seconds, probeEvery, instances } = options.changes
  console.log(
    `Change stream lag: ${rate} outside UPDATEs/s for ${seconds} s through pg, ${instances} instances; one write in ` +
      `${probeEvery} is a probe (the only writes to User) timed to the bump and to every instance`,
  )
  return withCleanup(async (defer) => {
    let server: Awaited<ReturnType<typeof startPostgresServer>>
    try {
      // synchronous_commit on, as on a production server: logical decoding reads flushed WAL only, and the
      // throwaway default (off) flushes it up to 200 ms late.
      server = await startPostgresServer({ settings: ['wal_level=logical', 'synchronous_commit=on'] })
    } catch (error) {
      const skipped = `no logical PostgreSQL cluster: ${(error as Error).message.split('\n')[0]}`
      console.log(`skipped changes-lag: ${skipped}`)
      return { skipped }
    }
    defer(() => server.stop())
    const db = await createPostgresDatabase(server.url)
    defer(() => db.drop())
    const redis = await startRedisServer()
    defer(() => redis.stop())
    const writers = new pg.Pool({ connectionString: db.url, max: 8 })
    defer(() => writers.end())
    await writers.query('CREATE PUBLICATION strata FOR ALL TABLES')
    await writers.query(`SELECT pg_create_logical_replication_slot('strata', 'pgoutput')`)
    const probe = (await writers.query(`INSERT INTO "User" (email, name) VALUES ('probe@x', 'v') RETURNING id`)).rows[0]
      .id as number
    const author = (await writers.query(`INSERT INTO "User" (email, name) VALUES ('author@x', 'a') RETURNING id`))
      .rows[0].id as number
    await writers.query(`INSERT INTO "Post" (title, "authorId") SELECT 'p' || g, $1 FROM generate_series(1, 100) g`, [
      author,
    ])
    const posts = (await writers.query('SELECT id FROM "Post" ORDER BY id')).rows.map((r) => r.id as number)

    const bumped: number[] = []
    const clients = Array.from({ length: instances }, () =>
      new PrismaClient({ adapter: db.adapter() as never }).$extends(
        cache({
          redis: redis.url,
          prefix: 'lag',
          changes: { postgres: { connectionString: db.url } },
          onInvalidate: (event) => {
            if (event.models.includes('User')) bumped.push(performance.now())
          },
        }),
      ),
    )
    for (const client of clients) {
      defer(() => client.$disconnect())
      defer(() => client.$cache.close())
      await client.$cache.whenReady(5000)
    }
    while (!clients.some((c) => c.$cache.stats().changes?.following)) await sleep(10)
    await sleep(500)
    const userVersion = (client: (typeof clients)[number]) => client.$cache.versionTag({ models: ['User'] })

    // The filler: `rate` writes a second, paced every 5 ms, at most 64 in flight; every probeEvery-th is a probe.
    let issued = 0
    let done = 0
    let inFlight = 0
    let failed = 0
    const toBump: number[] = []
    const toEvery: number[] = []
    let probing = false
    const runProbe = async (n: number) => {
      probing = true
      try {
        const before = await Promise.all(clients.map(userVersion))
        const seenBumps = bumped.length
        await writers.query('UPDATE "User" SET name = $1 WHERE id = $2', [`v${n}`, probe])
        const committed = performance.now()
        const changedAt: (number | undefined)[] = clients.map(() => undefined)
        while (changedAt.some((t) => t === undefined) || bumped.length === seenBumps) {
          for (const [i, client] of clients.entries()) {
            if (changedAt[i] === undefined && (await userVersion(client)) !== before[i])
              changedAt[i] = performance.now()
          }
          await new Promise((resolve) => setImmediate(resolve))
        }
        toBump.push((bumped[seenBumps] as number) - committed)
        toEvery.push(Math.max(...(changedAt as number[])) - committed)
      } finally {
        probing = false
      }
    }
    const start = performance.now()
    const end = start + seconds * 1000
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate)
      while (issued < due && inFlight < 64) {
        issued++
        if (issued % probeEvery === 0) {
          // One probe at a time: a probe due while one is timed is written as a filler instead.
          if (!probing) {
            void runProbe(issued)
            continue
          }
        }
        inFlight++
        const post = posts[issued % posts.length] as number
        writers
          .query('UPDATE "Post" SET title = $1 WHERE id = $2', [`t${issued}`, post])
          .then(
            () => done++,
            () => failed++,
          )
          .finally(() => inFlight--)
      }
      await sleep(5)
    }
    const elapsed = (performance.now() - start) / 1000
    while (inFlight > 0 || probing) await sleep(5)
    const achieved = Math.round((done + toEvery.length) / elapsed)
    const result = {
      targetRate: rate,
      achievedRate: achieved,
      failedWrites: failed,
      instances,
      commitToBump: percentiles(toBump),
      commitToEveryInstance: percentiles(toEvery),
    }
    console.log(`outside writes: ${achieved}/s achieved (target ${rate}/s), ${failed} failed`)
    const line = (label: string, p: ReturnType<typeof percentiles>) =>
      console.log(`${label}: p50 ${p.p50} ms, p99 ${p.p99} ms, max ${p.max} ms (${p.samples} probes)`)
    line("commit -> follower's bump in Redis", result.commitToBump)
    line(`commit -> every instance's version changed (${instances})`, result.commitToEveryInstance)
    for (const client of clients) await client.$cache.close()
    await writers.query(`SELECT pg_drop_replication_slot('strata')`)
    console.log()
    const doubleBump = await measureDoubleBump(db, writers, redis.url, defer, options.changes.cost)
    return { ...result, doubleBump }
  })
}
