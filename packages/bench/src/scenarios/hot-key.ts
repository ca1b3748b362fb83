// Hot key read by several processes: each worker process is an application instance reading the same hot
// findUnique over and over while the first one writes that row now and then, so every other instance learns of
// the write through Strata's bus. Strata two-tier, Strata Redis-only and plain Prisma take turns, round by round.
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { seed } from '../contenders.ts'
import type { BenchOptions } from '../options.ts'
import type { HotKeyConfig, HotKeyMode, HotKeyReport } from '../workers/hot-key.ts'
import { type Defer, withCleanup } from './cleanup.ts'
import { type Fleet, startFleet } from './fleet.ts'
import { hotKeyChecks, hotKeyTable, summarizeContender } from './hot-key-report.ts'
import { type Services, startServices } from './services.ts'

const hotKeyContenders: { mode: HotKeyMode; label: string; description: string }[] = [
  {
    mode: 'two-tier',
    label: 'Strata two-tier',
    description: '`cache({ redis })`: local hits while the bus is up; after a write, one Redis GET or query each.',
  },
  {
    mode: 'redis-only',
    label: 'Strata Redis only',
    description: '`cache({ redis, local: false })`: every read is a Redis GET.',
  },
  { mode: 'prisma', label: 'plain Prisma', description: 'No cache: every read is a PostgreSQL query.' },
]

export function runHotKey(options: BenchOptions) {
  const m = options.multi
  const perRound = Math.ceil(m.hotReads / m.hotRounds)
  console.log(
    `Hot key: ${m.processes} processes read one row with findUnique, ${m.hotRounds} rounds per contender ` +
      `(warm-up ${options.warmup}); process 1 makes ${perRound * m.hotRounds} reads and writes the row once every ` +
      `${m.writeEvery}, the others read until it is done; each yields after every ${m.yieldEvery} reads`,
  )
  return withCleanup(async (defer) => {
    const services = await startServices(options, defer)
    if ('skipped' in services) {
      console.log(`skipped hot-key: ${services.skipped}`)
      return { skipped: services.skipped }
    }
    const rows = await seedRows(services, defer)
    const configs = Array.from(
      { length: m.processes },
      (_, index): HotKeyConfig => ({
        index,
        dbUrl: services.db.url,
        redisUrl: services.redisUrl,
        prefix: services.prefix,
        rows,
        writer: index === 0,
        writeEvery: m.writeEvery,
        yieldEvery: m.yieldEvery,
      }),
    )
    const fleet = await startFleet('hot-key', configs)
    defer(() => fleet.close())

    for (const { mode } of hotKeyContenders) await fleet.all({ cmd: 'warm', mode, reads: options.warmup })
    const serverCalls = new Map(hotKeyContenders.map((c) => [c.mode, {} as Record<string, number>]))
    for (let round = 0; round < m.hotRounds; round++) {
      for (let i = 0; i < hotKeyContenders.length; i++) {
        const { mode } = hotKeyContenders[(i + round) % hotKeyContenders.length] as (typeof hotKeyContenders)[number]
        const before = await services.commandCalls?.()
        await runRound(fleet, { cmd: 'run', mode, reads: perRound, round })
        const after = await services.commandCalls?.()
        if (before && after) addDelta(serverCalls.get(mode) as Record<string, number>, before, after)
      }
      process.stderr.write(`round ${round + 1}/${m.hotRounds}\r`)
    }
    process.stderr.write('\n')
    await new Promise((resolve) => setTimeout(resolve, 200)) // the last bus messages arrive before the final reads

    const contenders = []
    for (const c of hotKeyContenders) {
      const reports = await fleet.all<HotKeyReport>({ cmd: 'report', mode: c.mode })
      const server = services.commandCalls ? serverCalls.get(c.mode) : undefined
      contenders.push({ ...c, ...summarizeContender(reports, server) })
    }
    const checks = hotKeyChecks(contenders)
    console.log()
    console.log(hotKeyTable(contenders))
    console.log()
    for (const v of checks) console.log(`${v.ok ? 'ok  ' : 'WARN'} ${v.text}`)
    return {
      config: { ...m, perRound, warmup: options.warmup, rows },
      services: services.info,
      units:
        'per process and in total; latency in µs per read (sequential awaited calls); lag: ms from the return of ' +
        'a write in process 1 to the first read of the new value in another process, same round',
      contenders,
      checks,
    }
  })
}

/** One row per contender, so a write through one never touches another's (plain Prisma bumps no version). */
async function seedRows(services: Services, defer: Defer): Promise<Record<HotKeyMode, number>> {
  const admin = new PrismaClient({ adapter: services.db.adapter() as never })
  defer(() => admin.$disconnect())
  const rows = {} as Record<HotKeyMode, number>
  for (const { mode } of hotKeyContenders) {
    rows[mode] = (await admin.user.create({ data: { ...seed, email: `hot-${mode}@example.com` } })).id
  }
  return rows
}

/** All processes read; once the writer (process 1) is done, the others are told to stop. */
async function runRound(fleet: Fleet, command: { cmd: 'run'; mode: HotKeyMode; reads: number; round: number }) {
  for (let i = 0; i < fleet.size; i++) fleet.send(i, command)
  await fleet.reply(0)
  for (let i = 1; i < fleet.size; i++) fleet.send(i, { cmd: 'stop', mode: command.mode, round: command.round })
  for (let i = 1; i < fleet.size; i++) await fleet.reply(i)
}

function addDelta(into: Record<string, number>, before: Record<string, number>, after: Record<string, number>) {
  for (const [name, calls] of Object.entries(after)) {
    if (name === 'info') continue // our own INFO commandstats
    const delta = calls - (before[name] ?? 0)
    if (delta > 0) into[name] = (into[name] ?? 0) + delta
  }
}
