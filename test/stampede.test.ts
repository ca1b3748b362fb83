// Stampede across processes: 3 OS processes, each with 1,000 concurrent reads of one expired hot key, at once, with
// default options and no version known beforehand. Counted below Prisma in each process, and by the Redis server:
// with leases, one database query in total; without, at most one per process, and a few Redis calls per process,
// not one per read, whether Redis answers at once, slowly, or not at all.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { Redis } from 'ioredis'
import { cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { faultProxy } from './support/fault-proxy.ts'
import { newClient, newDatabase, type RawClient } from './support/matrix.ts'
import { type LocalServer, startRedisServer } from './support/services.ts'

const PROCESSES = 3
const READS = 1000

interface Report {
  queries: number
  errors: Record<string, number>
  views: unknown[]
  misses: number
  coalesced: number
  bypasses: number
  redisHits: number
  localHits: number
  leaseWaitsOut: number
}

function worker(env: Record<string, string>): { child: ChildProcessWithoutNullStreams; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/stampede-worker.ts'], {
    env: { ...process.env, ...env },
  })
  child.stderr.on('data', (d) => process.stderr.write(d))
  return { child, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator]() }
}

async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  const { value, done } = await lines.next()
  if (done) throw new Error('worker exited early')
  return value
}

describe('stampede across processes', () => {
  let db: TestDatabase
  let raw: RawClient
  // A server of this file's own: its command counts are this file's alone, and it can be frozen.
  let server: LocalServer
  let admin: Redis

  beforeAll(async () => {
    server = await startRedisServer()
    admin = new Redis(server.url)
    db = await newDatabase('postgres')
    raw = newClient('postgres', db.adapter())
    await raw.post.create({ data: { title: 'hot', views: 7 } })
  })
  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
    await raw?.$disconnect()
    await db?.drop()
  })

  /** Calls of each command the server ran since the last CONFIG RESETSTAT. */
  async function commands(): Promise<Record<string, number>> {
    const info = await admin.info('commandstats')
    const counts: Record<string, number> = {}
    for (const [, name, calls] of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) counts[name as string] = Number(calls)
    return counts
  }

  /**
   * Fills the hot key, lets it expire, then every worker fires its reads at once. `redis`: the URL the workers use
   * (the server, or a proxy in front of it); `during`: what happens to the server while they read.
   */
  async function race(
    lease: boolean,
    options: { redis?: string; redisTimeout?: number; during?: { before(): void; after(): void } } = {},
  ): Promise<{ reports: Report[]; calls: Record<string, number> }> {
    const prefix = `stampede${lease ? 'L' : 'N'}${Date.now()}`
    // Fill the hot key, then let it expire: the race is for an expired key, not a cold one.
    const filler = newClient('postgres', db.adapter()).$extends(cache({ redis: server.url, prefix }))
    await filler.$cache.whenReady()
    await filler.post.findFirst({ where: { title: 'hot' }, cache: { ttl: 1 } })
    await filler.$cache.close()
    await filler.$disconnect()
    const env = {
      DB_URL: db.url,
      REDIS: options.redis ?? server.url,
      PREFIX: prefix,
      READS: String(READS),
      REDIS_TIMEOUT: String(options.redisTimeout ?? ''),
    }
    const workers = Array.from({ length: PROCESSES }, () => worker({ ...env, LEASE: lease ? '1' : '0' }))
    try {
      for (const w of workers) expect(await nextLine(w.lines)).toBe('ready')
      await new Promise((r) => setTimeout(r, 1100)) // past the TTL
      await admin.config('RESETSTAT')
      options.during?.before()
      let reports: Report[]
      try {
        for (const w of workers) w.child.stdin.write('go\n')
        reports = await Promise.all(workers.map(async (w) => JSON.parse(await nextLine(w.lines))))
      } finally {
        options.during?.after()
      }
      const calls = await commands()
      for (const r of reports) expect(r.views).toEqual([7])
      return { reports, calls }
    } finally {
      for (const w of workers) w.child.kill()
    }
  }

  /** At most one query per process; a Redis failure only ever shows as E_REDIS_UNAVAILABLE, never as a bypass. */
  function expectSingleFlight(reports: Report[]) {
    for (const r of reports) {
      expect(r.queries).toBeLessThanOrEqual(1)
      expect(Object.keys(r.errors).filter((code) => code !== 'E_REDIS_UNAVAILABLE')).toEqual([])
      expect(r.bypasses).toBe(0)
      // A process whose versions script brought another process's fill: its first reader keeps the entry locally
      // before the others look again, and they hit it there.
      expect(r.misses + r.redisHits + r.coalesced + r.localHits).toBe(READS)
    }
  }

  /**
   * Per process, one readVersions script for its 1,000 snapshots (registering the read's predicate scheme in the
   * same call), which reads the entry too (a GET of its own where the versions were known): one script call per
   * process, where 1,000 readers asking each would make thousands. Commandstats count the GETs a script runs as
   * well (the timeline key, one per version name the read depends on, four for a predicate read, and the entry),
   * so those are bounded per process too.
   */
  function expectFewRedisCalls(calls: Record<string, number>) {
    expect((calls.evalsha ?? 0) + (calls.eval ?? 0)).toBeLessThanOrEqual(PROCESSES)
    expect(calls.get ?? 0).toBeLessThanOrEqual(7 * PROCESSES)
  }

  it('with leases, one database query in total while Redis answers in time, never more than one per process', async () => {
    // Redis answers in time: a generous timeout, since the default's 200 ms budget for a whole read (snapshot, lease,
    // look again) can be spent by a loaded machine alone, and a read whose budget is spent skips the lease.
    const { reports } = await race(true, { redisTimeout: 5000 })
    expectSingleFlight(reports)
    // A lease call that runs out of its budget, or a holder slower than the others' lease wait (a loaded machine can
    // starve a process that long), leaves a process to query on its own: single flight still holds there, and the
    // process counts it. Otherwise the processes that did not hold the lease were served its fill.
    if (reports.every((r) => r.errors.E_REDIS_UNAVAILABLE === undefined && r.leaseWaitsOut === 0)) {
      expect(reports.reduce((sum, r) => sum + r.queries, 0)).toBe(1)
    }
  })

  it('without leases, at most one per process, and one read of the versions and the entry per process', async () => {
    const { reports, calls } = await race(false)
    expectSingleFlight(reports)
    expectFewRedisCalls(calls)
  })

  it('Redis slow (150 ms round trips): at most one query per process, no more Redis calls', async () => {
    const proxy = await faultProxy(server.port, { delayMs: 75 })
    try {
      const { reports, calls } = await race(false, { redis: proxy.url })
      expectSingleFlight(reports)
      expectFewRedisCalls(calls)
    } finally {
      await proxy.close()
    }
  })

  it('Redis frozen (SIGSTOP) during the burst: one query per process, counted as a miss', async () => {
    const frozen = {
      before: () => process.kill(server.pid, 'SIGSTOP'),
      after: () => process.kill(server.pid, 'SIGCONT'),
    }
    const { reports } = await race(false, { during: frozen })
    expectSingleFlight(reports)
    for (const r of reports) {
      expect(r.queries).toBe(1)
      expect(r.errors.E_REDIS_UNAVAILABLE).toBeGreaterThan(0)
      // The database answered because Redis could not: a miss, which the hit ratio counts.
      expect(r.misses).toBe(1)
      expect(r.coalesced).toBe(READS - 1)
    }
  })
})
