// The app mix: an application's traffic on posts, users and comments (90% reads of four shapes, 10% writes of four
// kinds, Zipf-distributed keys, a few calls in flight) through uncached Prisma, prisma-extension-redis and Strata
// two-tier with model-level and precise invalidation, side by side in one run. Then, writes stopped, a sample of
// the reads is made again through every cache and compared with the database. See README.md.
import { fullGc, pairedRatio, Samples } from '../measure.ts'
import type { BenchOptions } from '../options.ts'
import type { Check } from '../report.ts'
import { checkReads, sampleReads } from './app-mix-check.ts'
import { type AppContender, openAppContenders } from './app-mix-contenders.ts'
import { IdealCeiling } from './app-mix-ideal.ts'
import { appOperations, type KindName, kindNames, kinds, type Op } from './app-mix-ops.ts'
import { type AppMixRow, appMixTable, hitTable, latencyTable } from './app-mix-report.ts'
import { withCleanup } from './cleanup.ts'
import { startServices } from './services.ts'

/** Long enough for the bus to deliver a write's bump to every subscriber on this machine. */
const QUIET_MS = 100

type KindSamples = Record<KindName, Samples>

/** Takes each answer (the ideal ceiling, on uncached Prisma); its time is not the contender's. */
type Observe = (op: Op, answer: unknown) => void

/** Runs `ops` through one contender with `concurrency` in flight; returns the wall-clock ms. */
async function run(
  c: AppContender,
  ops: Op[],
  concurrency: number,
  samples: KindSamples | undefined,
  observe?: Observe,
) {
  let next = 0
  const lane = async () => {
    while (next < ops.length) {
      const op = ops[next++] as Op
      const t0 = performance.now()
      const answer = await kinds[op.kind].run(c.client, op)
      samples?.[op.kind].push((performance.now() - t0) * 1000)
      observe?.(op, answer)
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, lane))
  return performance.now() - start
}

export function runAppMix(options: BenchOptions) {
  const o = options.appMix
  console.log(
    `App mix: Prisma, prisma-extension-redis, Strata model / precise on PostgreSQL; ${o.users} users, ${o.posts} ` +
      `posts, ${o.commentsPerPost} comments per post, Zipf s = ${o.zipf}; ${o.ops} operations per contender over ` +
      `${o.rounds} rounds after ${o.warmup} warm-up operations, ${o.concurrency} in flight; every ${o.checkEvery}th read checked at the end`,
  )
  return withCleanup(async (defer) => {
    const services = await startServices(options, defer)
    if ('skipped' in services) {
      console.log(`skipped app-mix: ${services.skipped}`)
      return { skipped: services.skipped }
    }
    const opened = await openAppContenders(services, options.postgresUrl as string, o, defer)
    // `--only`: uncached Prisma always runs (the ratios and the ideal come from it).
    const { only } = options
    const list = opened.list.filter(
      (c) => only.length === 0 || c.key === 'prisma' || only.some((k) => c.key.includes(k)),
    )
    const notes = opened.notes
    for (const note of notes) console.log(note)

    const perRound = Math.ceil(o.ops / o.rounds)
    const mix = (round: number) => appOperations(perRound, { ...o, s: o.zipf }, round, round * perRound)
    // Warm-up: untimed operations of the same mix (fills what a cache fills), then every counter from zero. Their
    // own seed and numbers (below every timed one), so a longer warm-up leaves the timed rounds as they are.
    const warmup = appOperations(o.warmup, { ...o, s: o.zipf }, 0, -o.warmup)
    const ideal = new IdealCeiling()
    const observe = (counted: boolean) => (c: AppContender) =>
      c.key === 'prisma' ? (op: Op, answer: unknown) => ideal.observe(op, answer, counted) : undefined
    for (const c of list) {
      await run(c, warmup, o.concurrency, undefined, observe(false)(c))
      c.resetCounters?.()
      c.sql.reset()
    }
    const done = perRound * o.rounds
    const samples = new Map(
      list.map((c) => [
        c.key,
        {
          kinds: Object.fromEntries(kindNames.map((k) => [k, new Samples(done)])) as KindSamples,
          rounds: new Samples(o.rounds),
        },
      ]),
    )
    const timedOps: Op[] = []
    for (let round = 1; round <= o.rounds; round++) {
      const ops = mix(round)
      timedOps.push(...ops)
      for (let i = 0; i < list.length; i++) {
        const c = list[(i + round) % list.length] as AppContender
        const s = samples.get(c.key) as { kinds: KindSamples; rounds: Samples }
        fullGc() // untimed: no contender pays for another's garbage
        const ms = await run(c, ops, o.concurrency, s.kinds, observe(true)(c))
        // One "sample" per round: µs per operation, so pairedRatio compares rounds.
        s.rounds.push((ms * 1000) / ops.length)
        s.rounds.endBatch()
      }
      process.stderr.write(`app mix: round ${round}/${o.rounds}\r`)
    }
    process.stderr.write('\n')
    // Counters and SQL of the timed rounds only: the check's reads come after.
    const counted = new Map(
      list.map((c) => [
        c.key,
        {
          counters: c.counters?.(),
          byKind: c.kindCounters?.(),
          sql: c.sql.count(),
          refills: c.strata?.stats().refills,
        },
      ]),
    )

    // Writes have stopped: after the bus had time to deliver, every cache must answer what the database holds.
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS))
    const reads = sampleReads(timedOps, o.checkEvery)
    const checks: Check[] = []
    const of = (key: AppContender['key']) => samples.get(key) as { kinds: KindSamples; rounds: Samples }
    const rows: AppMixRow[] = []
    for (const c of list) {
      const s = of(c.key)
      const { counters, byKind, sql, refills } = counted.get(c.key) as {
        counters: AppMixRow['counters']
        byKind: AppMixRow['byKind']
        sql: number
        refills: number | undefined
      }
      // Queries a cache sends with no read waiting (in its SQL per operation): fills again after a write overtook one.
      if (refills !== undefined) console.log(`${c.label}: ${refills} refills in the timed rounds`)
      const cached = counters ? counters.hits + counters.misses : 0
      const check = c.key === 'prisma' ? undefined : await checkReads(c, reads)
      if (check) {
        checks.push({
          ok: check.mismatches === 0,
          text:
            `${c.label}: ${check.mismatches} of ${check.checked} sampled reads differed from the database after ` +
            `writes stopped (${check.cacheAnswered} answered by the cache)` +
            Object.entries(check.byKind)
              .map(([kind, n]) => `; ${kind}: ${n}`)
              .join(''),
        })
        for (const e of check.examples) {
          console.log(`  ${c.label}, ${e.op}:\n    cached   ${e.cached}\n    database ${e.database}`)
        }
      }
      if (counters) {
        // Which faults, by code (Strata counts them so): a timeout on a loaded machine is not a wrong answer.
        const codes = c.strata && counters.errors > 0 ? ` ${JSON.stringify(c.strata.stats().errors)}` : ''
        checks.push({ ok: counters.errors === 0, text: `${c.label}: ${counters.errors} cache errors${codes}` })
      }
      rows.push({
        key: c.key,
        label: c.label,
        roundOpsPerSec: Array.from(s.rounds.values()).map((us) => Math.round(1e6 / us)),
        opsPerSec: 1e6 / s.rounds.summary().median,
        // µs per operation of Prisma ÷ this contender's: throughput relative to Prisma's.
        ratioToPrisma: pairedRatio(of('prisma').rounds, s.rounds),
        hitRatio: counters && cached > 0 ? counters.hits / cached : undefined,
        counters,
        byKind,
        sqlPerOp: sql / done,
        latency: Object.fromEntries(kindNames.map((k) => [k, s.kinds[k].summary()])) as AppMixRow['latency'],
        check,
      })
    }

    console.log()
    console.log(appMixTable(rows))
    console.log()
    console.log(
      `Hit ratio per read, counted after ${o.warmup} warm-up operations; ideal: a cache that misses only a query ` +
        'never answered before or whose answer changed since (answers of uncached Prisma on the same operations):',
    )
    console.log(hitTable(rows, ideal))
    console.log()
    console.log('Latency per operation (calls in flight):')
    console.log(latencyTable(rows))
    console.log()
    for (const v of checks) console.log(`${v.ok ? 'ok  ' : 'WARN'} ${v.text}`)
    return {
      config: o,
      services: services.info,
      notes,
      contenders: list.map(({ key, label, description }) => ({ key, label, description })),
      operations: Object.fromEntries(kindNames.map((k) => [k, { label: kinds[k].label, share: kinds[k].share }])),
      units: 'ops/s: operations over the round’s wall-clock time (median round); latency: µs per call',
      rows,
      ideal: { byKind: ideal.byKind, total: ideal.total() },
      checks,
    }
  })
}
