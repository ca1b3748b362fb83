// Stampede across processes: every worker process fires 1,000 identical findFirst at once on one hot row whose
// cached entry has just expired, and the database counts what reaches it. Plain Prisma sends every read; Strata
// coalesces them to one query per process; with leases, one process queries and the others wait for its fill.
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { seed } from '../contenders.ts'
import type { BenchOptions } from '../options.ts'
import type { BurstReport, StampedeConfig, StampedeMode } from '../workers/stampede.ts'
import { withCleanup } from './cleanup.ts'
import { startFleet } from './fleet.ts'
import { startServices } from './services.ts'
import { queries, type Round, span, stampedeChecks, stampedeTable } from './stampede-report.ts'

const stampedeContenders: { mode: StampedeMode; label: string; description: string }[] = [
  { mode: 'prisma', label: 'plain Prisma', description: 'No cache: every read is a query (pg pool of 10 each).' },
  {
    mode: 'strata',
    label: 'Strata, no leases',
    description: '`cache({ redis })`: single flight inside each process, so at most one query per process.',
  },
  {
    mode: 'lease',
    label: 'Strata, leases',
    description:
      '`cache({ redis, lease: true })`: one process takes the lease and queries; the others wait for its fill.',
  },
]

const EMAIL = 'stampede@example.com'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function runStampede(options: BenchOptions) {
  const m = options.multi
  console.log(
    `Stampede: ${m.processes} processes × ${m.stampedeReads} concurrent findFirst of one expired hot key, ` +
      `${m.stampedeRounds} round(s)`,
  )
  return withCleanup(async (defer) => {
    const services = await startServices(options, defer)
    if ('skipped' in services) {
      console.log(`skipped stampede: ${services.skipped}`)
      return { skipped: services.skipped }
    }
    const admin = new PrismaClient({ adapter: services.db.adapter() as never })
    defer(() => admin.$disconnect())
    await admin.user.create({ data: { ...seed, email: EMAIL } })
    const modes = stampedeContenders.map((c) => c.mode)
    const configs = Array.from(
      { length: m.processes },
      (_, index): StampedeConfig => ({
        index,
        dbUrl: services.db.url,
        redisUrl: services.redisUrl,
        prefix: services.prefix,
        email: EMAIL,
        modes,
      }),
    )
    const fleet = await startFleet('stampede', configs)
    defer(() => fleet.close())

    // Warm-up: connection pools opened, code paths compiled, versions known; not counted.
    for (const mode of modes) await fleet.all({ cmd: 'burst', mode, reads: 50 })
    const rounds = new Map<StampedeMode, Round[]>(modes.map((mode) => [mode, []]))
    for (let round = 0; round < m.stampedeRounds; round++) {
      // Every process holds the entry, then it expires everywhere (TTL 1 s, less jitter) before the bursts.
      for (const mode of modes) await fleet.all({ cmd: 'prime', mode })
      await sleep(1100)
      for (let i = 0; i < modes.length; i++) {
        const mode = modes[(i + round) % modes.length] as StampedeMode
        // Each process starts at the same moment, a little ahead, however late its command arrives.
        const at = performance.timeOrigin + performance.now() + 100
        const reports = await fleet.all<BurstReport>({ cmd: 'burst', mode, reads: m.stampedeReads, at })
        rounds.get(mode)?.push({ round: round + 1, processes: reports })
      }
      process.stderr.write(`round ${round + 1}/${m.stampedeRounds}\r`)
    }
    process.stderr.write('\n')

    const contenders = stampedeContenders.map((c) => ({ ...c, rounds: rounds.get(c.mode) as Round[] }))
    const checks = stampedeChecks(contenders, m.processes, m.stampedeReads)
    console.log()
    console.log(stampedeTable(contenders, m.processes * m.stampedeReads))
    console.log()
    for (const v of checks) console.log(`${v.ok ? 'ok  ' : 'WARN'} ${v.text}`)
    return {
      config: { processes: m.processes, reads: m.stampedeReads, rounds: m.stampedeRounds, ttlSeconds: 1 },
      services: services.info,
      units:
        'queries: SQL statements counted below Prisma; ms: from the first process starting to the last read served',
      contenders: contenders.map((c) => ({
        ...c,
        rounds: c.rounds.map((r) => ({ ...r, queries: queries(r), spanMs: span(r) })),
      })),
      checks,
    }
  })
}
