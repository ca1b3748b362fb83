// One process of the multi-process consistency run (run.ts spawns several: `node --import tsx worker.ts`). It has its
// own Prisma client (PostgreSQL or MySQL/MariaDB, shared by all processes) and its own Strata connections to the shared Redis, runs
// random reads and writes on the shared rows and logs every operation, with when it started and returned, as JSON
// lines to a file. Config comes in the STRATA_CONSISTENCY environment variable; the start signal and the "done"
// answer go over the IPC channel.
//
// Clock: milliseconds of CLOCK_MONOTONIC (process.hrtime), which every process of a Linux machine shares and no
// wall-clock step moves, so start and end times compare across processes (performance.timeOrigin is sampled per
// process from the wall clock).
import { appendFileSync, writeFileSync } from 'node:fs'
import { PrismaMariaDb } from '@prisma/adapter-mariadb'
import { PrismaPg } from '@prisma/adapter-pg'
import type { cache as Cache } from 'prisma-strata'
import type { PrismaClient } from '../../../generated/postgres/client/client.ts'
import { Rng } from '../differential/random.ts'
import type { LogEntry } from './checker.ts'

export interface WorkerConfig {
  index: number
  /** The database the rows are in: chooses the generated client, the adapter and the SQL of raw writes. */
  provider: 'postgres' | 'mysql'
  databaseUrl: string
  redisUrl: string
  prefix: string
  users: Array<{ id: number; posts: number[] }>
  /** Writes per second in this process (Poisson arrivals). */
  writeRate: number
  /** Concurrent read loops in this process, like concurrent requests of a server; one more loop writes. */
  lanes: number
  seed: number
  /** Pause of a reader between reads (ms); 0: only yield to the event loop (setImmediate). */
  thinkMs: number
  /** Event-loop gaps longer than this (ms) are logged as stalls. */
  stallMs: number
  /** User and Post with `strategy: 'write-through'`. */
  writeThrough: boolean
  logFile: string
}

export interface StartMessage {
  type: 'start'
  t0: number
  writeUntil: number
  readUntil: number
  cycleMs: number
  quietMs: number
  settleRunMs: number
}
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'done'; operations: number; stats: unknown }
  | { type: 'fatal'; message: string }

const now = () => Number(process.hrtime.bigint()) / 1e6

/** ioredis options from a redis:// URL, with a connection name (CLIENT LIST shows it; the harness kills by it). */
function redisOptions(url: string, connectionName: string) {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number(u.pathname.slice(1) || 0),
    connectionName,
  }
}

function rng(seed: number): () => number {
  const r = new Rng(seed)
  return () => r.next()
}

// STRATA_CONSISTENCY_MODULE: the path of another build of prisma-strata to run instead (a mutant, to check that this
// test catches the bug it was planted with).
const { cache } = (await import(process.env.STRATA_CONSISTENCY_MODULE ?? 'prisma-strata')) as { cache: typeof Cache }

async function makeClient(config: WorkerConfig) {
  // Both generated clients have the same models; the PostgreSQL one's types stand for either.
  const { PrismaClient: Client } = (
    config.provider === 'mysql'
      ? await import('../../../generated/mysql/client/client.ts')
      : await import('../../../generated/postgres/client/client.ts')
  ) as { PrismaClient: typeof PrismaClient }
  const adapter =
    config.provider === 'mysql'
      ? new PrismaMariaDb(config.databaseUrl)
      : new PrismaPg({ connectionString: config.databaseUrl })
  const client = new Client({ adapter: adapter as PrismaPg })
  const prisma = client.$extends(
    cache({
      redis: redisOptions(config.redisUrl, `strata-w${config.index}`),
      prefix: config.prefix,
      ...(config.writeThrough && {
        models: { User: { strategy: 'write-through' }, Post: { strategy: 'write-through' } },
      }),
    }),
  )
  return prisma
}

type Client = Awaited<ReturnType<typeof makeClient>>
type Obs = Array<[number, number | null]>
type Row = { id: number; views: number }

async function main() {
  const config = JSON.parse(process.env.STRATA_CONSISTENCY as string) as WorkerConfig
  const send = (message: WorkerMessage) => process.send?.(message)
  let finished = false
  process.on('disconnect', () => {
    if (!finished) process.exit(1) // the harness is gone: no orphan keeps writing
  })
  const prisma: Client = await makeClient(config)
  const random = rng(config.seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  const users = config.users
  const posts = users.flatMap((u) => u.posts)
  const authorOf = new Map(users.flatMap((u) => u.posts.map((id) => [id, u] as const)))
  const userOf = (id: number) => authorOf.get(id) as WorkerConfig['users'][number]
  const expect = (ids: readonly number[], rows: ReadonlyArray<Row | null> | null | undefined): Obs =>
    ids.map((id) => [id, rows?.find((r) => r?.id === id)?.views ?? null])

  // Read forms: each returns what it saw of each row, as [post id, views], and is aimed at one post (or its author).
  // Post-only reads, reads that depend on User and Post (include, fluent, relation filter), lists and aggregates.
  const reads: Record<string, (id: number) => Promise<Obs>> = {
    'post.findUnique': async (id) => expect([id], [await prisma.post.findUnique({ where: { id } })]),
    'post.findUniqueOrThrow select': async (id) => {
      const row = await prisma.post.findUniqueOrThrow({ where: { id }, select: { views: true } })
      return [[id, row.views]]
    },
    'post.findFirst': async (id) => expect([id], [await prisma.post.findFirst({ where: { id } })]),
    'post.findMany by author': async (id) => {
      const user = userOf(id)
      const rows = await prisma.post.findMany({ where: { authorId: user.id }, orderBy: { id: 'asc' } })
      return expect(user.posts, rows)
    },
    'post.findMany all': async () =>
      expect(posts, await prisma.post.findMany({ orderBy: { id: 'asc' }, select: { id: true, views: true } })),
    'post.aggregate _max': async (id) => {
      const row = await prisma.post.aggregate({ where: { id }, _max: { views: true } })
      return [[id, row._max.views]]
    },
    'user.findUnique include posts': async (id) => {
      const user = userOf(id)
      const row = await prisma.user.findUnique({ where: { id: user.id }, include: { posts: true } })
      return expect(user.posts, row?.posts)
    },
    'user.findUnique().posts()': async (id) => {
      const user = userOf(id)
      return expect(user.posts, await prisma.user.findUnique({ where: { id: user.id } }).posts())
    },
    'user.findFirst posts some': async (id) => {
      const row = await prisma.user.findFirst({
        where: { posts: { some: { id } } },
        select: { posts: { where: { id }, select: { id: true, views: true } } },
      })
      return expect([id], row?.posts)
    },
    'user.findMany include posts': async () => {
      const rows = await prisma.user.findMany({
        orderBy: { id: 'asc' },
        include: { posts: { select: { id: true, views: true } } },
      })
      return expect(
        posts,
        rows.flatMap((u) => u.posts),
      )
    },
  }

  // Write forms: each increments one row's views by 1 and returns the new value (unique per row: the row lock
  // orders the increments). Plain, nested through User, *AndReturn, upsert, both transaction forms, raw SQL.
  let increment = { views: { increment: 1 } }
  const writes: Record<string, (id: number) => Promise<number>> = {
    'post.update': async (id) =>
      (await prisma.post.update({ where: { id }, data: increment, select: { views: true } })).views,
    'user.update nested posts.update': async (id) => {
      const user = await prisma.user.update({
        where: { id: userOf(id).id },
        data: { posts: { update: { where: { id }, data: increment } } },
        select: { posts: { where: { id }, select: { views: true } } },
      })
      return (user.posts[0] as { views: number }).views
    },
    'post.upsert': async (id) =>
      (
        await prisma.post.upsert({
          where: { id },
          update: increment,
          create: { title: `never-${id}` },
          select: { views: true },
        })
      ).views,
    '$transaction interactive': async (id) =>
      prisma.$transaction(
        async (tx) => (await tx.post.update({ where: { id }, data: increment, select: { views: true } })).views,
      ),
    '$transaction batch': async (id) => {
      const [row] = await prisma.$transaction([
        prisma.post.update({ where: { id }, data: increment, select: { views: true } }),
      ])
      return row.views
    },
  }
  // MySQL has neither *AndReturn nor RETURNING: there the UPDATE and the read of the new value run in one batch
  // transaction, whose row lock (held until commit) makes the value read the one this UPDATE wrote.
  if (config.provider === 'mysql') {
    writes['post.updateMany + findUnique (batch)'] = async (id) => {
      const [, row] = await prisma.$transaction([
        prisma.post.updateMany({ where: { id }, data: increment }),
        prisma.post.findUniqueOrThrow({ where: { id }, select: { views: true } }),
      ])
      return row.views
    }
    writes['$executeRaw UPDATE + SELECT (batch)'] = async (id) => {
      const [, rows] = await prisma.$transaction([
        prisma.$executeRaw`UPDATE \`Post\` SET \`views\` = \`views\` + ${increment.views.increment} WHERE \`id\` = ${id}`,
        prisma.$queryRaw<Array<{ views: number }>>`SELECT \`views\` FROM \`Post\` WHERE \`id\` = ${id}`,
      ])
      return Number((rows[0] as { views: number }).views)
    }
  } else {
    writes['post.updateManyAndReturn'] = async (id) => {
      const rows = await prisma.post.updateManyAndReturn({ where: { id }, data: increment, select: { views: true } })
      return (rows[0] as { views: number }).views
    }
    writes['$queryRaw UPDATE RETURNING'] = async (id) => {
      const rows = await prisma.$queryRaw<Array<{ views: number }>>`
        UPDATE "Post" SET "views" = "views" + ${increment.views.increment} WHERE "id" = ${id} RETURNING "views"`
      return Number((rows[0] as { views: number }).views)
    }
  }
  const readForms = Object.keys(reads)
  const writeForms = Object.keys(writes)

  if (!(await prisma.$cache.whenReady(10_000))) throw new Error('the invalidation bus did not subscribe in 10 s')
  // Warm up: Prisma compiles a query plan per query shape and opens its pool on first use, which takes whole
  // seconds on a loaded machine. Every form once (writes adding 0: they change nothing), before the clock starts.
  increment = { views: { increment: 0 } }
  for (const form of writeForms) await (writes[form] as (id: number) => Promise<number>)(posts[0] as number)
  increment = { views: { increment: 1 } }
  for (const id of posts) for (const form of readForms) await (reads[form] as (id: number) => Promise<Obs>)(id)
  // The log goes to the file in chunks, so a long run does not hold it all.
  writeFileSync(config.logFile, '')
  let log: string[] = []
  const flush = () => {
    if (log.length > 0) appendFileSync(config.logFile, `${log.join('\n')}\n`)
    log = []
  }
  const record = (entry: LogEntry) => {
    if (log.push(JSON.stringify(entry)) >= 20_000) flush()
  }
  let ready = prisma.$cache.ready
  const watchBus = () => {
    if (prisma.$cache.ready !== ready) {
      ready = !ready
      record({ kind: 'bus', p: config.index, t: now(), up: ready })
    }
  }

  // Stall monitor. `turn()` runs at every operation and on a 5 ms timer, so a process whose event loop turns runs it
  // at least every 5 ms or so; a gap longer than `stallMs` between two runs means the process ran no JavaScript and
  // its event loop did not turn (descheduled on a loaded machine, a GC pause, a long synchronous task), so no bus
  // message could be applied then. The checker does not count such time as bus delay; it reports how much there was.
  let lastTurn = now()
  let writesEnd = Number.POSITIVE_INFINITY
  /** Time stalled after `writesEnd`. */
  let stalledAfterWrites = 0
  const turn = () => {
    const t = now()
    if (t - lastTurn > config.stallMs) {
      record({ kind: 'stall', p: config.index, from: lastTurn, to: t })
      stalledAfterWrites += Math.max(0, t - Math.max(lastTurn, writesEnd))
    }
    lastTurn = t
  }
  const ticker = setInterval(() => {
    turn()
    watchBus() // also while every loop waits on I/O
  }, 5)

  const start = await new Promise<StartMessage>((resolve) => {
    process.on('message', (m: StartMessage) => {
      if (m.type === 'start') resolve(m)
    })
    send({ type: 'ready' })
  })
  while (now() < start.t0) await new Promise((r) => setTimeout(r, Math.max(0, Math.min(5, start.t0 - now()))))
  writesEnd = start.writeUntil
  // Reads go on until `readUntil`, and until this process has been able to run for `settleRunMs` after the writes
  // (a process starved of CPU gets more wall time, so that (c) sees its reads), 10 s more at most.
  const reading = () => {
    const t = now()
    if (t < start.readUntil) return true
    return t - start.writeUntil - stalledAfterWrites < start.settleRunMs && t < start.readUntil + 10_000
  }

  const p = config.index
  let operations = 0
  const read = async (lane: number, id: number) => {
    turn()
    const op = pick(readForms)
    const s = now()
    try {
      const obs = await (reads[op] as (id: number) => Promise<Obs>)(id)
      record({ kind: 'read', p, lane, op, s, e: now(), obs })
    } catch (error) {
      record({ kind: 'error', p, lane, op, s, e: now(), message: String((error as Error)?.message) })
    }
    operations++
  }
  // Readers: one read after another, like the request handlers of a server.
  const reader = async (lane: number) => {
    while (reading()) {
      watchBus()
      await read(lane, pick(posts))
      // Yield to the event loop between operations, as a server does between requests. A local hit resolves in
      // microtasks only: a loop of nothing but hits would never let Node read the bus socket, and this process would
      // serve stale entries for as long as the loop runs. setImmediate lets the poll phase (socket reads) run first.
      // With `thinkMs`, wait that long instead (a server that is not saturated).
      await new Promise((r) => (config.thinkMs > 0 ? setTimeout(r, config.thinkMs) : setImmediate(r)))
    }
  }
  // The writer: writes at `writeRate` (Poisson arrivals) until `writeUntil`, each followed at once by a read of the
  // same row (read-your-writes in one flow, like a redirect after a POST). Readers keep reading meanwhile.
  // Every process is quiet for the last `quietMs` of each `cycleMs`: a stale entry that only the next write would
  // replace (a lost invalidation) then stays stale for longer than the bound, where (b) sees it.
  const active = start.cycleMs - start.quietMs
  const gap = () => -Math.log(1 - random()) * (1000 / config.writeRate)
  const schedule = (t: number) => {
    let next = t + gap()
    while ((next - start.t0) % start.cycleMs >= active) {
      next = start.t0 + (Math.floor((next - start.t0) / start.cycleMs) + 1) * start.cycleMs + gap()
    }
    return next
  }
  const writer = async (lane: number) => {
    let next = schedule(now())
    for (;;) {
      if (next >= start.writeUntil) return
      const wait = next - now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      // A writer that fell behind (slow writes) does not catch up in a burst, nor write into a quiet period.
      next = schedule(Math.max(next, now()))
      if ((now() - start.t0) % start.cycleMs >= active) continue
      turn()
      watchBus()
      const op = pick(writeForms)
      const id = pick(posts)
      const s = now()
      try {
        const value = await (writes[op] as (id: number) => Promise<number>)(id)
        record({ kind: 'write', p, lane, op, s, e: now(), row: id, value })
      } catch (error) {
        record({ kind: 'error', p, lane, op, s, e: now(), message: String((error as Error)?.message) })
      }
      operations++
      await read(lane, id)
    }
  }
  await Promise.all([...Array.from({ length: config.lanes }, (_, i) => reader(i)), writer(config.lanes)])
  watchBus()
  clearInterval(ticker)

  flush()
  finished = true
  send({ type: 'done', operations, stats: prisma.$cache.stats() })
  await prisma.$cache.close()
  await prisma.$disconnect()
  process.disconnect?.()
}

main().catch((error) => {
  process.send?.({ type: 'fatal', message: String((error as Error)?.stack ?? error) } satisfies WorkerMessage)
  process.exitCode = 1
  setTimeout(() => process.exit(1), 100)
})
