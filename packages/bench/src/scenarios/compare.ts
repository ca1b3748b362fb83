// Strata side by side with prisma-extension-redis, the query-extension and round-trip floors and uncached Prisma, in one process on
// one PostgreSQL database and one Redis server: a point read that hits, a list read with relations that hits, a
// miss, a 90/10 read/write mix over many rows, and a write while many entries are cached. See README.md.
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { seed } from '../contenders.ts'
import type { BenchOptions } from '../options.ts'
import type { Check } from '../report.ts'
import { withCleanup } from './cleanup.ts'
import { openContenders } from './compare-contenders.ts'
import { latencyCases, runLatencyCase } from './compare-latency.ts'
import { runMix } from './compare-mix.ts'
import { type CompareResults, hitTable, missTable, mixTable, summaryTable, writeTable } from './compare-report.ts'
import { runWrite } from './compare-write.ts'
import { type Services, startServices } from './services.ts'

/** One author with 10 posts of 3 comments and 2 tags each (the list read), then `rows` plain posts. */
async function seedRows(services: Services, rows: number) {
  const admin = new PrismaClient({ adapter: services.db.adapter() as never })
  try {
    const author = await admin.user.create({ data: { ...seed, email: 'author@example.com' } })
    for (let i = 0; i < 10; i++) {
      await admin.post.create({
        data: {
          title: `Post ${i} of the list`,
          published: true,
          authorId: author.id,
          comments: { create: [1, 2, 3].map((n) => ({ body: `Comment ${n}`, authorId: author.id })) },
          tags: { connectOrCreate: ['cache', 'prisma'].map((name) => ({ where: { name }, create: { name } })) },
        },
      })
    }
    await admin.$executeRawUnsafe(
      `INSERT INTO "Post" (title, published, views) SELECT 'Post ' || i, true, 0 FROM generate_series(1, ${rows}) AS i`,
    )
    const [first] = await admin.$queryRawUnsafe<{ id: number }[]>(
      'SELECT min(id)::int AS id FROM "Post" WHERE "authorId" IS NULL',
    )
    const ids = Array.from({ length: rows }, (_, i) => (first?.id as number) + i)
    return { authorId: author.id, ids }
  } finally {
    await admin.$disconnect()
  }
}

export function runCompare(options: BenchOptions) {
  const o = options.compare
  console.log(
    `Compare: Prisma, query-extension and round-trip floors, prisma-extension-redis, Strata local / Redis / ` +
      `two-tier on PostgreSQL; ` +
      `${o.rounds} rounds × ${o.calls} calls per latency case; a write with ${o.entries} entries cached; ` +
      `${o.mixOps} operations of a 90/10 mix over ${o.mixKeys} rows, ${o.mixConcurrency} in flight`,
  )
  return withCleanup(async (defer) => {
    const services = await startServices(options, defer)
    if ('skipped' in services) {
      console.log(`skipped compare: ${services.skipped}`)
      return { skipped: services.skipped }
    }
    const { authorId, ids } = await seedRows(services, Math.max(o.entries, o.mixKeys))
    const contenders = await openContenders(services, defer)
    const checks: Check[] = []
    const counts = services.commandCalls
    const latency = {
      rounds: o.rounds,
      calls: o.calls,
      warmup: o.warmup,
      redis: counts ? { url: services.redisUrl, commandCalls: counts } : undefined,
    }
    const results = {} as CompareResults
    for (const c of latencyCases({ hot: ids[0] as number, authorId })) {
      const run = await runLatencyCase(c, contenders, latency)
      results[c.key] = run.rows
      checks.push(...run.checks)
    }
    checks.push(...roundTripChecks(results))
    if (o.latencyOnly) {
      console.log()
      console.log(summaryTable({ ...results, write: [], mix: [] }, o.entries))
      console.log()
      console.log('Hits against the round trip:')
      console.log(hitTable(results))
      console.log()
      console.log('Misses:')
      console.log(missTable(results))
      for (const v of checks) console.log(`${v.ok ? 'ok  ' : 'WARN'} ${v.text}`)
      return { config: o, services: services.info, ...results, checks }
    }
    const mix = await runMix(contenders, {
      ids: ids.slice(0, o.mixKeys),
      ops: o.mixOps,
      rounds: 4,
      concurrency: o.mixConcurrency,
      writeShare: 0.1,
    })
    results.mix = mix.rows
    checks.push(...mix.checks)
    const write = await runWrite(contenders, {
      ids: ids.slice(0, o.entries),
      rounds: o.writeRounds,
      commandCalls: services.commandCalls,
    })
    results.write = write.rows
    checks.push(...write.checks)

    console.log()
    console.log(summaryTable(results, o.entries))
    console.log()
    console.log('Hits against the round trip:')
    console.log(hitTable(results))
    console.log()
    console.log('Misses:')
    console.log(missTable(results))
    console.log()
    console.log(`Write with ${o.entries.toLocaleString('en-US')} entries cached:`)
    console.log(writeTable(results.write))
    console.log()
    console.log('90/10 mix:')
    console.log(mixTable(results.mix))
    console.log()
    for (const v of checks) console.log(`${v.ok ? 'ok  ' : 'WARN'} ${v.text}`)
    return {
      config: o,
      services: services.info,
      contenders: contenders.list.map(({ key, label, description }) => ({ key, label, description })),
      units:
        'latency cases: µs per call (sequential awaited calls); write: ms per update; mix: operations per second ' +
        '(wall clock, calls in flight); ratios: median over rounds of the per-round ratio to Prisma uncached',
      ...results,
      checks,
    }
  })
}

/**
 * The goals a Redis round trip sets (timings are informational, as every timing here): a Redis-only hit within 1.15×
 * one GET and an unpack, a two-tier miss within 1.15× one GET and the query, and, counted, at most one command
 * sent before a miss's SQL by each Strata instance that has Redis (the fill's SET goes after the answer).
 */
function roundTripChecks(r: CompareResults): Check[] {
  const out: Check[] = []
  const hit = r.pointHit.find((x) => x.key === 'strata.redis')
  if (hit) {
    out.push({
      ok: hit.ratioToRoundTrip <= 1.15,
      text: `Strata Redis-only point hit ÷ round-trip floor (one GET + unpack): ${hit.ratioToRoundTrip.toFixed(2)}× (goal ≤ 1.15×)`,
    })
  }
  const miss = r.miss.find((x) => x.key === 'strata.two-tier')
  if (miss) {
    out.push({
      ok: miss.ratioToRoundTrip <= 1.15,
      text:
        `Strata two-tier miss ÷ round-trip floor (one GET, then the query): ${miss.ratioToRoundTrip.toFixed(2)}× ` +
        `(goal ≤ 1.15×), ÷ Prisma ${miss.ratioToPrisma.toFixed(2)}×`,
    })
  }
  for (const [label, rows] of [
    ['versions known', r.miss],
    ['versions not known', r.missCold],
  ] as const) {
    for (const x of rows) {
      if (!x.sentPerCall || (x.key !== 'strata.redis' && x.key !== 'strata.two-tier')) continue
      const before = Object.entries(x.sentPerCall).filter(([name]) => name !== 'set')
      const sent = before.reduce((n, [, k]) => n + k, 0)
      out.push({
        ok: sent <= 1,
        text: `${x.label} miss, ${label}: ${sent.toFixed(2)} commands sent per miss besides the fill's SET (at most 1)`,
      })
    }
  }
  return out
}
