// The multi-process consistency run: seeds shared rows in a fresh PostgreSQL or MySQL/MariaDB database, starts `processes` workers
// (worker.ts, each an OS process with its own Prisma client and Redis connections), lets them read and write for
// `writeMs`, then read only for `settleMs`, collects their operation logs and checks them (checker.ts). With `kill`,
// the run uses a throwaway redis-server and kills connections mid-run, alternately every connection of one worker
// (CLIENT KILL ID, found by connection name) and every worker's bus (CLIENT KILL TYPE pubsub).
// Used by test/consistency.test.ts (short) and cli.ts (`pnpm consistency -- --processes 5 --seconds 60`).
import { type ChildProcess, fork } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import type { PrismaClient } from '../../../generated/postgres/client/client.ts'
import { createMysqlDatabase, createPostgresDatabase } from '../../../prisma/database.ts'
import { type LocalServer, mysqlUrl, postgresUrl, redisUrl, startRedisServer } from '../services.ts'
import {
  type BusEvent,
  Checker,
  type CheckResult,
  excerpt,
  type KillEvent,
  type LogEntry,
  type ReadOp,
  sortEntries,
  summary,
  type WriteOp,
} from './checker.ts'
import type { StartMessage, WorkerConfig, WorkerMessage } from './worker.ts'

export interface RunOptions {
  processes: number
  /** The database of the shared rows. Default 'postgres'. */
  provider?: WorkerConfig['provider']
  /** Milliseconds of reads and writes. */
  writeMs: number
  /**
   * Milliseconds of reads only after that, for convergence (c). Default: max(1000, 5 * boundMs). A worker starved of
   * CPU reads on (10 s at most) until it has run for half of that since the writes stopped.
   */
  settleMs?: number
  /** Largest staleness allowed across processes (b), and how long after the last write (c) applies. */
  boundMs: number
  /** Writes per second per process. */
  writeRate: number
  /** Concurrent read loops per process (one more writes). */
  lanes: number
  /** Pause of each reader between reads, in ms. Default 0: readers only yield to the event loop (CPU-bound). */
  thinkMs?: number
  /** Event-loop gaps longer than this are the reader's stalls, not bus delay (see checker.ts). Default 10 ms. */
  stallMs?: number
  /** Kill bus connections mid-run (throwaway redis-server). */
  kill: boolean
  /**
   * Writes come in cycles: the last `quietMs` of every `cycleMs` no process writes, so a lost invalidation shows as
   * staleness beyond the bound instead of being covered by the next write. Default: quiet max(200, 2 * boundMs),
   * cycle max(500, quiet + 300).
   * With `kill`, a kill comes every cycle.
   */
  cycleMs?: number
  quietMs?: number
  users?: number
  postsPerUser?: number
  /** User and Post write-through (rows put after writes) instead of invalidated. */
  writeThrough?: boolean
  seed?: number
  /** Progress lines. */
  log?: (line: string) => void
  /** Keep the per-process log files (their directory is in the report). Default: only when something failed. */
  keepLogs?: boolean
}

export interface WorkerSummary {
  index: number
  operations: number
  localHits: number
  redisHits: number
  misses: number
  cacheErrors: Record<string, number>
}

export interface RunReport {
  result: CheckResult
  writes: WriteOp[]
  bus: BusEvent[]
  kills: KillEvent[]
  /** Time of the start signal: report times are relative to it. */
  origin: number
  workers: WorkerSummary[]
  runMs: number
  /** Summary, per-process cache counters, and excerpts of the first violations. */
  text: string
  logDir: string | undefined
  /** True when there is no violation and no problem. */
  ok: boolean
}

const now = () => Number(process.hrtime.bigint()) / 1e6
const root = fileURLToPath(new URL('../../../', import.meta.url))
const workerFile = fileURLToPath(new URL('./worker.ts', import.meta.url))

/** The lines of a file, read in chunks (a long run's logs are hundreds of MB). */
function* readLines(file: string): Generator<string> {
  const fd = openSync(file, 'r')
  const buffer = Buffer.alloc(4 * 1024 * 1024)
  let rest = ''
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null)
      if (n === 0) break
      const text = rest + buffer.toString('utf8', 0, n)
      const lines = text.split('\n')
      rest = lines.pop() as string
      yield* lines
    }
    if (rest) yield rest
  } finally {
    closeSync(fd)
  }
}

/** What a log directory needs besides the workers' logs to be checked again (`run.json`). */
export interface RunMeta {
  origin: number
  initial: Record<number, number>
  final: Record<number, number>
  kills: KillEvent[]
  boundMs: number
  processes: number
}

/**
 * Checks the logs of a run directory. Two passes: writes, bus events, stalls and errors first (the checker indexes
 * them), then the reads one by one, so a long run's reads are never all in memory at once.
 */
export function checkLogs(logDir: string, meta: RunMeta, boundMs = meta.boundMs) {
  const files = Array.from({ length: meta.processes }, (_, index) => join(logDir, `worker-${index}.jsonl`))
  const isRead = (line: string) => line.startsWith('{"kind":"read"')
  const others = sortEntries(
    (function* () {
      for (const file of files) for (const line of readLines(file)) if (line && !isRead(line)) yield JSON.parse(line)
    })() as Iterable<LogEntry>,
  )
  const checker = new Checker({ ...others, kills: meta.kills, initial: meta.initial, final: meta.final, boundMs })
  for (const file of files) {
    for (const line of readLines(file)) if (isRead(line)) checker.observe(JSON.parse(line) as ReadOp)
  }
  return { result: checker.finish(), others }
}

interface Worker {
  child: ChildProcess
  output: string[]
  ready: Promise<void>
  done: Promise<Extract<WorkerMessage, { type: 'done' }>>
}

function startWorker(config: WorkerConfig): Worker {
  const child = fork(workerFile, [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, STRATA_CONSISTENCY: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  const output: string[] = []
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString())
    if (output.length > 50) output.shift()
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const failed = (why: string) => new Error(`worker ${config.index} ${why}\n${output.join('').slice(-4000)}`)
  let onReady: () => void = () => {}
  let onDone: (m: Extract<WorkerMessage, { type: 'done' }>) => void = () => {}
  let onFail: (e: Error) => void = () => {}
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve
    onFail = reject
  })
  const done = new Promise<Extract<WorkerMessage, { type: 'done' }>>((resolve, reject) => {
    onDone = resolve
    const previous = onFail
    onFail = (e) => {
      previous(e)
      reject(e)
    }
  })
  // Either may be left unawaited when the other fails first.
  ready.catch(() => {})
  done.catch(() => {})
  let finished = false
  child.on('message', (m: WorkerMessage) => {
    if (m.type === 'ready') onReady()
    else if (m.type === 'done') {
      finished = true
      onDone(m)
    } else if (m.type === 'fatal') onFail(failed(`failed: ${m.message}`))
  })
  child.on('exit', (code, signal) => {
    if (!finished) onFail(failed(`exited (${code ?? signal}) before finishing`))
  })
  child.on('error', (error) => onFail(failed(`could not start: ${error.message}`)))
  return { child, output, ready, done }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
    }),
  ])
}

/** Kills every connection whose CLIENT SETNAME is `name` (the worker's command and pub/sub connections). */
async function killConnectionsNamed(admin: Redis, name: string): Promise<number> {
  const list = (await admin.client('LIST')) as string
  const ids = list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /\bid=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined)
  let killed = 0
  for (const id of ids) killed += Number(await admin.client('KILL', 'ID', id))
  return killed
}

/** The log around the largest staleness seen (when nothing failed, the closest call). */
export function worstExcerpt(result: CheckResult, log: Parameters<typeof excerpt>[1], origin: number, boundMs: number) {
  const worst = result.staleness.worst as NonNullable<CheckResult['staleness']['worst']>
  const message = `largest staleness, ${result.staleness.max.toFixed(2)} ms (${worst.raw.toFixed(2)} ms with stalls)`
  const row = worst.write.row
  const value = worst.read.obs.find(([r]) => r === row)?.[1] ?? null
  const text = excerpt(
    { property: 'b', message, read: worst.read, row, value, write: worst.write },
    log,
    origin,
    boundMs,
  )
  return text.replace(/^\(b\) bounded staleness: /, '')
}

export async function runConsistency(options: RunOptions): Promise<RunReport> {
  const log = options.log ?? (() => {})
  const settleMs = options.settleMs ?? Math.max(1000, 5 * options.boundMs)
  const started = now()
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31)
  const provider = options.provider ?? 'postgres'
  const db =
    provider === 'mysql'
      ? await createMysqlDatabase(await mysqlUrl())
      : await createPostgresDatabase(await postgresUrl())
  let server: LocalServer | undefined
  let admin: Redis | undefined
  let raw: PrismaClient | undefined
  const workers: Worker[] = []
  const logDir = mkdtempSync(join(tmpdir(), 'strata-consistency-'))
  let keepLogs = options.keepLogs ?? false
  try {
    // Both generated clients have the same models; the PostgreSQL one's types stand for either.
    const { PrismaClient: Client } = (
      provider === 'mysql'
        ? await import('../../../generated/mysql/client/client.ts')
        : await import('../../../generated/postgres/client/client.ts')
    ) as { PrismaClient: typeof PrismaClient }
    raw = new Client({ adapter: db.adapter() as never })
    const users: WorkerConfig['users'] = []
    for (let u = 0; u < (options.users ?? 2); u++) {
      const user = await raw.user.create({ data: { email: `u${u}@consistency` } })
      const posts: number[] = []
      for (let i = 0; i < (options.postsPerUser ?? 3); i++) {
        posts.push((await raw.post.create({ data: { title: `p${i}`, authorId: user.id } })).id)
      }
      users.push({ id: user.id, posts })
    }
    const initial: Record<number, number> = {}
    for (const id of users.flatMap((u) => u.posts)) initial[id] = 0

    if (options.kill) server = await startRedisServer()
    const url = server ? server.url : await redisUrl()
    const prefix = `cons${process.pid}x${Date.now().toString(36)}`
    admin = new Redis(url)
    log(`database ${db.url} (${provider}), redis ${url} prefix ${prefix}, seed ${seed}, logs in ${logDir}`)

    for (let index = 0; index < options.processes; index++) {
      workers.push(
        startWorker({
          index,
          provider,
          databaseUrl: db.url,
          redisUrl: url,
          prefix,
          users,
          writeRate: options.writeRate,
          lanes: options.lanes,
          seed: seed + index,
          stallMs: options.stallMs ?? 10,
          writeThrough: options.writeThrough ?? false,
          thinkMs: options.thinkMs ?? 0,
          logFile: join(logDir, `worker-${index}.jsonl`),
        }),
      )
    }
    await withTimeout(Promise.all(workers.map((w) => w.ready)), 60_000, 'the workers to start')
    const t0 = now() + 100
    const quietMs = options.quietMs ?? Math.max(200, 2 * options.boundMs)
    const cycleMs = options.cycleMs ?? Math.max(500, quietMs + 300)
    if (!(quietMs < cycleMs)) throw new Error(`quietMs (${quietMs}) must be shorter than cycleMs (${cycleMs})`)
    const writeUntil = t0 + options.writeMs
    const start: StartMessage = {
      type: 'start',
      t0,
      writeUntil,
      readUntil: writeUntil + settleMs,
      cycleMs,
      quietMs,
      settleRunMs: settleMs / 2,
    }
    if ((await (admin as Redis).pubsub('NUMSUB', `${prefix}:bus`))[1] !== workers.length) {
      throw new Error(`not every worker is subscribed to ${prefix}:bus (store/bus.ts names the channel)`)
    }
    for (const w of workers) w.child.send(start)
    log(
      `${options.processes} processes started; writes for ${options.writeMs} ms (quiet ${quietMs} of every ${cycleMs} ms), then reads for ${settleMs} ms`,
    )

    const kills: KillEvent[] = []
    // A kill every cycle, alternately every connection of one worker (its command connection and its bus) and every
    // pub/sub connection (every worker's bus). Mostly 75% into the cycle's writing part: writes go on during the outage
    // and the bus comes back in the quiet part, where nothing but the resubscription itself can repair what the
    // process missed. Every fourth kill comes at 30%: the bus comes back while writes go on.
    const killing = options.kill
      ? (async () => {
          const redis = admin as Redis
          const channel = `${prefix}:bus` // store/bus.ts
          const subscribed = async () => Number(((await redis.pubsub('NUMSUB', channel)) as [string, number])[1])
          // Every worker's command connection and bus connection, by name (redisOptions in worker.ts).
          const connected = async () => ((await redis.client('LIST')) as string).split(' name=strata-w').length - 1
          const connections = await connected()
          const killAt = (c: number) => t0 + c * cycleMs + (c % 4 === 2 ? 0.3 : 0.75) * (cycleMs - quietMs)
          for (let c = 0; killAt(c) < writeUntil; c++) {
            const wait = killAt(c) - now()
            if (wait > 0) await new Promise((r) => setTimeout(r, wait))
            const t = now()
            let what: string
            if (c % 2 === 0) {
              const victim = (c / 2) % workers.length
              what = `every connection of worker ${victim} (${await killConnectionsNamed(redis, `strata-w${victim}`)})`
            } else what = `CLIENT KILL TYPE pubsub (${await redis.client('KILL', 'TYPE', 'pubsub')})`
            // Each process reconnects and resubscribes on its own; Redis tells when all have (each trusts its local
            // tier again only once it has read the SUBSCRIBE reply, which comes after). A bump that failed while its
            // process's command connection was down is sent again once that connection is ready (and every 50 ms
            // until it lands), so the command connections must be back too.
            const dropped = workers.length - (await subscribed())
            let restored: number | undefined
            while (restored === undefined && now() - t < 10_000) {
              if ((await subscribed()) === workers.length && (await connected()) >= connections) restored = now()
              else await new Promise((r) => setTimeout(r, 1))
            }
            kills.push({ t, what, dropped, ...(restored !== undefined ? { restored } : {}) })
            const back = restored === undefined ? 'never' : `+${(restored - t).toFixed(0)} ms`
            log(`killed ${what} at +${(t - t0).toFixed(0)} ms: ${dropped} subscriptions dropped, all back ${back}`)
          }
        })()
      : Promise.resolve()

    const done = await withTimeout(
      Promise.all(workers.map((w) => w.done)),
      options.writeMs + settleMs + 70_000,
      'the workers to finish',
    )
    await killing

    const final: Record<number, number> = {}
    for (const row of await raw.post.findMany({ select: { id: true, views: true } })) final[row.id] = row.views
    const meta: RunMeta = { origin: t0, initial, final, kills, boundMs: options.boundMs, processes: workers.length }
    writeFileSync(join(logDir, 'run.json'), JSON.stringify(meta))
    const { result, others } = checkLogs(logDir, meta)

    const summaries: WorkerSummary[] = done.map((m, index) => {
      const stats = m.stats as { localHits: number; redisHits: number; misses: number; errors: Record<string, number> }
      return {
        index,
        operations: m.operations,
        localHits: stats.localHits,
        redisHits: stats.redisHits,
        misses: stats.misses,
        cacheErrors: stats.errors,
      }
    })
    const ok = result.violations.length === 0 && result.problems.length === 0
    keepLogs ||= !ok
    const lines = [
      summary(result, options.boundMs),
      ...summaries.map(
        (w) =>
          `process ${w.index}: ${w.operations} operations; cache: ${w.localHits} local hits, ${w.redisHits} Redis hits, ${w.misses} misses${
            Object.keys(w.cacheErrors).length > 0 ? `; faults ${JSON.stringify(w.cacheErrors)}` : ''
          }`,
      ),
      ...result.violations.slice(0, 10).map((v) => excerpt(v, others, t0, options.boundMs)),
      ...(result.violations.length === 0 && result.staleness.worst
        ? [worstExcerpt(result, others, t0, options.boundMs)]
        : []),
      ...(keepLogs ? [`operation logs (JSON lines, times in ms of CLOCK_MONOTONIC): ${logDir}`] : []),
    ]
    return {
      result,
      writes: others.writes,
      bus: others.bus,
      kills,
      origin: t0,
      workers: summaries,
      runMs: now() - started,
      text: lines.join('\n'),
      logDir: keepLogs ? logDir : undefined,
      ok,
    }
  } catch (error) {
    keepLogs = true
    throw error
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL')
    admin?.disconnect()
    await raw?.$disconnect()
    await db.drop().catch(() => {})
    await server?.stop()
    if (!keepLogs) rmSync(logDir, { recursive: true, force: true })
  }
}
