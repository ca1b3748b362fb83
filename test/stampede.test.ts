// Stampede across processes: 3 OS processes, each with 1,000 concurrent reads of one expired hot key, at once.
// Counted below Prisma in each process: with leases, one database query in total; without, one per process.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestDatabase } from '../prisma/database.ts'
import { newClient, newDatabase, type RawClient } from './support/matrix.ts'
import { redisUrl } from './support/services.ts'

const PROCESSES = 3
const READS = 1000

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
  let redis: string

  beforeAll(async () => {
    redis = await redisUrl()
    db = await newDatabase('postgres')
    raw = newClient('postgres', db.adapter())
    await raw.post.create({ data: { title: 'hot', views: 7 } })
  })
  afterAll(async () => {
    await raw?.$disconnect()
    await db?.drop()
  })

  async function race(lease: boolean): Promise<number[]> {
    const prefix = `stampede${lease ? 'L' : 'N'}${Date.now()}`
    // Fill the hot key, then let it expire: the race is for an expired key, not a cold one.
    const filler = newClient('postgres', db.adapter()).$extends(cache({ redis, prefix }))
    await filler.$cache.whenReady()
    await filler.post.findFirst({ where: { title: 'hot' }, cache: { ttl: 1 } })
    await filler.$cache.close()
    await filler.$disconnect()
    const workers = Array.from({ length: PROCESSES }, () =>
      worker({ DB_URL: db.url, REDIS: redis, PREFIX: prefix, LEASE: lease ? '1' : '0', READS: String(READS) }),
    )
    try {
      for (const w of workers) expect(await nextLine(w.lines)).toBe('ready')
      await new Promise((r) => setTimeout(r, 1100)) // past the TTL
      for (const w of workers) w.child.stdin.write('go\n')
      const reports = await Promise.all(workers.map(async (w) => JSON.parse(await nextLine(w.lines))))
      for (const r of reports) {
        expect(r.views).toEqual([7])
        expect(r.errors).toEqual({})
      }
      return reports.map((r) => r.queries)
    } finally {
      for (const w of workers) w.child.kill()
    }
  }

  it('with leases, one database query in total', async () => {
    const queries = await race(true)
    expect(queries.reduce((a, b) => a + b, 0)).toBe(1)
  })

  it('without leases, at most one per process (single flight inside each)', async () => {
    const queries = await race(false)
    for (const q of queries) expect(q).toBeLessThanOrEqual(1)
    expect(queries.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(PROCESSES)
  })
})
