// The comparison's latency cases: a point read that hits, a list read with relations that hits, and reads that
// miss (unique arguments every call), with the versions known in process or not. Sequential awaited calls,
// contenders interleaved round by round (the order rotating), ratios paired by round; on a Redis server of the
// run's own, the commands each contender's calls cost, as the server counts them.
import { Redis } from 'ioredis'
import { pairedRatio, Samples, type Summary, timed, untimed } from '../measure.ts'
import type { Check } from '../report.ts'
import { type CompareContender, type Contenders, listArgs, type Posts } from './compare-contenders.ts'

export interface LatencyCase {
  key: 'pointHit' | 'listHit' | 'miss' | 'missCold'
  label: string
  /** One call; `n` is distinct for every call of the run; `strata`: the contender takes Strata's `cache` argument. */
  call(posts: Posts, n: number, strata: boolean): PromiseLike<unknown>
  expect: 'hit' | 'miss'
}

export interface LatencyRow {
  key: string
  label: string
  summary: Summary
  /** ÷ Prisma uncached, ÷ the query-extension floor and ÷ the round-trip floor, paired by round. */
  ratioToPrisma: number
  ratioToFloor: number
  ratioToRoundTrip: number
  /** SQL statements sent per timed call. */
  sqlPerCall: number
  /** The cache's own counts over the timed calls. */
  counters: { hits: number; misses: number; errors: number } | undefined
  roundMedians: number[]
  /** Commands per timed call, by name, as the Redis server counts them (those run by scripts included). */
  redisPerCall?: Record<string, number>
  /** Commands per call sent by the client (scripts' own commands not counted), by name, seen by MONITOR. */
  sentPerCall?: Record<string, number>
}

/** The run's own Redis server: its command counts, and its URL (to watch what clients send). */
export interface RedisCounts {
  url: string
  commandCalls(): Promise<Record<string, number>>
}

export function latencyCases(rows: { hot: number; authorId: number }): LatencyCase[] {
  return [
    {
      key: 'pointHit',
      label: 'point read, hit',
      call: (posts) => posts.findUnique({ where: { id: rows.hot } }),
      expect: 'hit',
    },
    {
      key: 'listHit',
      label: 'list read with relations, hit',
      call: (posts) => posts.findMany(listArgs(rows.authorId)),
      expect: 'hit',
    },
    {
      key: 'miss',
      label: 'miss (new arguments each call)',
      // Always the same row, but never the same query: every cache misses, then fills.
      call: (posts, n) => posts.findFirst({ where: { id: rows.hot, views: { lt: 1_000_000_000 + n } } }),
      expect: 'miss',
    },
    {
      key: 'missCold',
      label: 'miss, versions not known in process (a new tag each call)',
      // Strata has never seen the tag: its version comes from Redis before the SQL. The others read as above.
      call: (posts, n, strata) =>
        posts.findFirst({
          where: { id: rows.hot, views: { lt: 1_000_000_000 + n } },
          ...(strata ? { cache: { tags: [`cold-${n}`] } } : {}),
        }),
      expect: 'miss',
    },
  ]
}

const isStrata = (x: CompareContender) => x.key.startsWith('strata.')

/** Server command counts added by `work`, by name (our own INFO excluded), once its fills have landed. */
async function counted(redis: RedisCounts, work: () => Promise<void>, into: Record<string, number>): Promise<void> {
  const before = await redis.commandCalls()
  await work()
  // Fills go out after the answer: let them land before counting (untimed).
  await new Promise((resolve) => setTimeout(resolve, 20))
  const after = await redis.commandCalls()
  for (const [name, n] of Object.entries(after)) {
    const added = n - (before[name] ?? 0)
    if (name !== 'info' && added > 0) into[name] = (into[name] ?? 0) + added
  }
}

/** Commands clients send during `work`, by name: MONITOR marks those a script runs (`lua`), which are left out. */
async function sent(url: string, work: () => Promise<void>): Promise<Record<string, number>> {
  const admin = new Redis(url)
  const monitor = await admin.monitor()
  const out: Record<string, number> = {}
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = String(args[0]).toLowerCase()
    // Heartbeats of the invalidation bus and our own bookkeeping are not the reads'.
    if (source === 'lua' || name === 'publish' || name === 'info' || name === 'monitor') return
    out[name] = (out[name] ?? 0) + 1
  })
  try {
    await work()
    await new Promise((resolve) => setTimeout(resolve, 50))
  } finally {
    monitor.disconnect()
    admin.disconnect()
  }
  return out
}

const perCall = (counts: Record<string, number>, calls: number) =>
  Object.fromEntries(Object.entries(counts).map(([name, n]) => [name, n / calls]))

const text = (value: unknown) => JSON.stringify(value)
let counter = 0

/** Runs one case over every contender; returns its rows and checks. */
export async function runLatencyCase(
  c: LatencyCase,
  contenders: Contenders,
  options: { rounds: number; calls: number; warmup: number; redis?: RedisCounts },
): Promise<{ rows: LatencyRow[]; checks: Check[] }> {
  // The round-trip floor after Prisma and the query-extension floor: a row of the latency tables only.
  const list = [...contenders.list.slice(0, 2), contenders.roundTrip, ...contenders.list.slice(2)]
  const expected = await c.call(list[0]?.posts as Posts, counter++, false)
  contenders.floorAnswer.value = c.expect === 'hit' ? expected : undefined
  const checks: Check[] = []
  try {
    for (const x of list) await untimed(() => c.call(x.posts, counter++, isStrata(x)), options.warmup)
    // What each contender's client sends per call, in an untimed pass of its own
    // (MONITOR slows the server down).
    const sentBy = new Map<string, Record<string, number>>()
    const redis = options.redis
    if (redis && c.expect === 'miss') {
      const calls = Math.min(100, options.calls)
      for (const x of list) {
        const counts = await sent(redis.url, () => untimed(() => c.call(x.posts, counter++, isStrata(x)), calls))
        sentBy.set(x.key, perCall(counts, calls))
      }
    }
    for (const x of list) {
      const same = text(await c.call(x.posts, counter++, isStrata(x))) === text(expected)
      if (!same) checks.push({ ok: false, text: `${c.label}: ${x.label} returned another result than Prisma` })
      x.resetCounters?.()
      x.sql.reset()
    }
    const samples = new Map<string, Samples>(list.map((x) => [x.key, new Samples(options.rounds * options.calls)]))
    const commands = new Map<string, Record<string, number>>(list.map((x) => [x.key, {}]))
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < list.length; i++) {
        const x = list[(i + round) % list.length] as CompareContender
        const batch = () =>
          timed(() => c.call(x.posts, counter++, isStrata(x)), options.calls, samples.get(x.key) as Samples)
        if (options.redis) await counted(options.redis, batch, commands.get(x.key) as Record<string, number>)
        else await batch()
      }
      process.stderr.write(`${c.label}: round ${round + 1}/${options.rounds}\r`)
    }
    process.stderr.write('\n')
    const measured = options.rounds * options.calls
    const of = (key: string) => samples.get(key) as Samples
    const rows = list.map((x) => ({
      key: x.key,
      label: x.label,
      summary: of(x.key).summary(),
      ratioToPrisma: pairedRatio(of(x.key), of('prisma')),
      ratioToFloor: pairedRatio(of(x.key), of('floor')),
      ratioToRoundTrip: pairedRatio(of(x.key), of('round-trip')),
      sqlPerCall: x.sql.count() / measured,
      counters: x.counters?.(),
      roundMedians: of(x.key).batchMedians.map((m) => Math.round(m * 1000) / 1000),
      redisPerCall: redis ? perCall(commands.get(x.key) as Record<string, number>, measured) : undefined,
      sentPerCall: sentBy.get(x.key),
    }))
    checks.push(...latencyChecks(c, rows, measured))
    return { rows, checks }
  } finally {
    contenders.floorAnswer.value = undefined
  }
}

/** Every cache hit (or missed) each timed call, as it counts them and as the database saw. */
function latencyChecks(c: LatencyCase, rows: LatencyRow[], measured: number): Check[] {
  const out: Check[] = []
  for (const r of rows) {
    if (!r.counters) continue
    const { hits, misses, errors } = r.counters
    const ok =
      c.expect === 'hit'
        ? hits === measured && misses === 0 && r.sqlPerCall === 0
        : misses === measured && r.sqlPerCall >= 1
    out.push({
      ok: ok && errors === 0,
      text:
        `${c.label}: ${r.label} counted ${hits} hits, ${misses} misses, ${errors} errors over ${measured} calls; ` +
        `${r.sqlPerCall.toFixed(2)} SQL statements per call`,
    })
  }
  return out
}
