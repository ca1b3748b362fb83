// Strata quick start: a cached Prisma client on a throwaway SQLite database, shown at work in four short sections.
//
//   pnpm demo                                      in-process tier only
//   REDIS_URL=redis://127.0.0.1:6379 pnpm demo     Redis + in-process tiers
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Redis } from 'ioredis'
import { type CacheOptions, cache, type StatsSnapshot } from 'prisma-strata'
import { PrismaClient } from '../../generated/sqlite/client/client.ts'
import { createSqliteDatabase } from '../../prisma/database.ts'
import { columns, heading, int, micros, percent, plural } from './format.ts'
import { type ProgressOutput, progressBar } from './progress.ts'
import { type Seeded, seed } from './seed.ts'
import { countSql } from './sql-counter.ts'
import { type OperationName, operationNames, operations, plan, type RunResult, readsByModel, run } from './workload.ts'

export interface QuickstartOptions {
  users?: number
  posts?: number
  comments?: number
  /** Operations of the workload (section 4), run once on the plain client and once cached. */
  operations?: number
  /** A redis:// URL for the two-tier setup, or `false` for the in-process tier alone. Default: `$REDIS_URL`. */
  redis?: string | false
  /** Where the report goes. Default: stdout. */
  print?: (line: string) => void
  /**
   * Progress of the workload: a bar on a terminal, a plain line per quarter otherwise (CI logs), or `false`.
   * Default: stderr.
   */
  progress?: boolean | ProgressOutput
}

/** Where a call was answered, as `$cache.stats()` counted it. */
export type Source = 'memory' | 'Redis' | 'database'

export interface Observed<T> {
  value: T
  source: Source
  /** Microseconds. */
  us: number
  /** SQL statements sent. */
  sql: number
}

export interface ModelReport {
  reads: number
  memoryHits: number
  redisHits: number
  /** Misses on the first read of a query: no cache that starts empty avoids them. */
  firstReads: number
  /** Misses on a query read before: its entry was made stale by a write. */
  staleMisses: number
  hitRatio: number
}

export interface QuickstartResult {
  tiers: 'memory' | 'redis+memory'
  /** The temporary directory of the database (gone when `main` returns) and the Redis key prefix of the run. */
  directory: string
  prefix: string
  seeded: Seeded
  /** Section 1: the same query twice (and, with Redis, twice on a second instance). */
  repeat: Observed<unknown>[]
  /** Section 2: a user's posts before and after a new post, and where a read the write did not concern came from. */
  write: { before: number; after: number; visible: boolean; unrelated: Source }
  /** Section 3: the author's post count before, inside and after a rolled-back transaction. */
  rollback: { before: number; inside: number; after: number; database: number; leftNoTrace: boolean }
  workload: {
    operations: number
    /** Cached clients taking turns: 2 with Redis (two app instances), else 1. */
    instances: number
    plain: RunResult
    cached: RunResult
    hitRatio: number
    models: Record<string, ModelReport>
    /** Hit ratio of each read, from `$cache.stats().models[model].operations[operation]`. */
    operationHitRatio: Partial<Record<OperationName, number>>
    statementsSaved: number
    /** Total time plain / total time cached. */
    speedup: number
  }
}

function cachedClient(base: PrismaClient, options: CacheOptions) {
  return base.$extends(cache(options))
}
type CachedClient = ReturnType<typeof cachedClient>

export async function main(options: QuickstartOptions = {}): Promise<QuickstartResult> {
  const sizes = { users: options.users ?? 200, posts: options.posts ?? 1000, comments: options.comments ?? 3000 }
  const opCount = options.operations ?? 5000
  const redisUrl = options.redis ?? (process.env.REDIS_URL || false)
  const print = options.print ?? ((line: string) => console.log(line))
  const out = (...lines: (string | string[])[]) => {
    for (const line of lines.flat()) print(line)
  }
  const progressOutput = typeof options.progress === 'object' ? options.progress : (options.progress ?? true)

  // Everything this run makes is undone in `finally` (and on Ctrl-C): connections, Redis keys, the database file.
  const dir = mkdtempSync(join(tmpdir(), 'strata-quickstart-'))
  const removeDir = () => rmSync(dir, { recursive: true, force: true })
  // Ctrl-C stops at the next step and cleans up as usual; a second Ctrl-C quits at once.
  const stop = new AbortController()
  const interrupted = () => {
    if (stop.signal.aborted) {
      removeDir()
      process.exit(130)
    }
    stop.abort()
    process.stderr.write('\nInterrupted: cleaning up (Ctrl-C again to quit at once)\n')
  }
  process.on('SIGINT', interrupted)
  // One prefix per run: entries of an earlier run (another database) must never answer this one.
  const prefix = `quickstart-${process.pid}-${Date.now().toString(36)}`
  const cleanup: (() => Promise<unknown>)[] = []

  try {
    if (redisUrl) {
      // Our own connection, to check Redis answers before starting and to remove this run's keys at the end.
      const redis = await connectRedis(redisUrl)
      cleanup.push(async () => {
        await deleteKeys(redis, prefix)
        await redis.quit()
      })
    }

    const db = await createSqliteDatabase(join(dir, 'blog.db'))
    const sql = countSql(db.adapter())
    const base = new PrismaClient({ adapter: sql.adapter })
    cleanup.unshift(() => base.$disconnect())
    // SQLite as usually run in production (write-ahead log). A faster database makes section 4 harder for the cache.
    await base.$queryRawUnsafe('PRAGMA journal_mode = WAL')
    await base.$executeRawUnsafe('PRAGMA synchronous = NORMAL')

    // The one line that adds the cache. With Redis, every instance of the app uses the same Redis and prefix.
    const cacheOptions: CacheOptions = redisUrl ? { redis: redisUrl, prefix } : {}
    let opened = 0
    const instance = async () => {
      const client = cachedClient(base, cacheOptions)
      opened++
      cleanup.unshift(() => client.$cache.close())
      await ready(client)
      return client
    }
    const prisma = await instance()

    const field = (label: string, text: string) => `   ${label.padEnd(10)}${text}`
    out(
      'Strata quick start',
      field('database', 'SQLite, in a temporary file (deleted at exit)'),
      field(
        'cache',
        redisUrl
          ? `two tiers: in-process memory in front of Redis at ${redactUrl(redisUrl)} (key prefix ${prefix})`
          : 'in-process memory only (set REDIS_URL=redis://... to add the Redis tier)',
      ),
      field('client', `new PrismaClient({ adapter }).$extends(cache(${redisUrl ? '{ redis, prefix }' : ''}))`),
    )
    const seedStart = performance.now()
    const seeded = await seed(base, sizes)
    out(
      field(
        'data',
        `${plural(seeded.users, 'user')} (${int(seeded.profiles)} with a profile), ${plural(seeded.posts, 'post')}, ` +
          `${plural(seeded.tags.length, 'tag')}, ${plural(seeded.comments, 'comment')}: ` +
          `seeded in ${int(performance.now() - seedStart)} ms`,
      ),
    )
    // The first call of a query shape pays for Prisma's query compilation and for cold code: made here, on user 3,
    // so that the timings below compare a cache hit with a database query, not with a first call.
    for (let i = 0; i < 2; i++) {
      await prisma.user.findUnique({ where: { id: 3 }, include: { profile: true } })
      await prisma.user.findUnique({ where: { id: 3 }, include: { posts: true } })
      await prisma.user.findUnique({ where: { id: 3 } })
      await prisma.post.count({ where: { authorId: 3 } })
    }

    /** Runs one call on a cached client: where it was answered, how long it took, the SQL it sent. */
    async function observe<T>(client: CachedClient, call: () => PromiseLike<T>): Promise<Observed<T>> {
      const stats = client.$cache.stats()
      const statements = sql.count
      const start = performance.now()
      const value = await call()
      const us = (performance.now() - start) * 1000
      return { value, us, sql: sql.count - statements, source: sourceOf(stats, client.$cache.stats()) }
    }
    const header = ['', 'result', 'answered by', 'time', 'SQL', '']
    const row = (what: string, result: string, o: Observed<unknown>, note = '') => [
      what,
      result,
      o.source,
      micros(o.us),
      int(o.sql),
      note,
    ]
    const name = (o: Observed<{ name: string | null } | null>) => o.value?.name ?? 'null'

    stop.signal.throwIfAborted()
    // 1. The same query twice --------------------------------------------------------------------------------------
    out(heading('1. The same query twice'))
    out('   await prisma.user.findUnique({ where: { id: 1 }, include: { profile: true } })', '')
    const findUser1 = (client: CachedClient) => () =>
      client.user.findUnique({ where: { id: 1 }, include: { profile: true } })
    const first = await observe(prisma, findUser1(prisma))
    const second = await observe(prisma, findUser1(prisma))
    const repeat: Observed<unknown>[] = [first, second]
    const rows = [
      header,
      row('1st call', name(first), first, 'miss: the database answered; the result is now cached'),
      row('2nd call', name(second), second, 'hit: no SQL at all'),
    ]
    if (redisUrl) {
      // A second cached client stands for another process of your app: its memory is empty, Redis is shared.
      const other = await instance()
      await other.user.findUnique({ where: { id: 3 }, include: { profile: true } }) // warm up, as above
      const third = await observe(other, findUser1(other))
      const fourth = await observe(other, findUser1(other))
      repeat.push(third, fourth)
      rows.push(
        row('1st call, 2nd instance', name(third), third, 'hit: filled by the 1st instance'),
        row('2nd call, 2nd instance', name(fourth), fourth, 'hit: now in its own memory too'),
      )
    }
    out(columns(rows, [3, 4]), '')
    out(
      `   The hit took ${micros(second.us)} instead of ${micros(first.us)}` +
        ` (${(first.us / Math.max(second.us, 1)).toFixed(0)}× faster) and sent no SQL.`,
    )
    if (redisUrl) out('   Another instance of the app is served by Redis, then by its own memory.')

    stop.signal.throwIfAborted()
    // 2. A write, and the reads after it ------------------------------------------------------------------------
    out(heading('2. Writes are visible at once'))
    const authorId = 2
    const withPosts = () =>
      observe(prisma, () => prisma.user.findUnique({ where: { id: authorId }, include: { posts: true } }))
    const alone = () => observe(prisma, () => prisma.user.findUnique({ where: { id: authorId } }))
    const postCount = (o: Observed<{ posts: unknown[] } | null>) => o.value?.posts.length ?? 0
    const before = await withPosts()
    const aloneBefore = await alone()
    const created = await observe(prisma, () =>
      prisma.post.create({ data: { title: 'Hello from the quick start', authorId } }),
    )
    const after = await withPosts()
    const aloneAfter = await alone()
    const visible = after.value?.posts.some((p) => p.id === created.value.id) ?? false
    out(`   await prisma.post.create({ data: { title: 'Hello from the quick start', authorId: ${authorId} } })`, '')
    out(
      columns(
        [
          header,
          row(`read  user ${authorId} with { posts: true }`, plural(postCount(before), 'post'), before),
          row(`read  user ${authorId}, no include`, name(aloneBefore), aloneBefore),
          row('write prisma.post.create(...)', `post ${created.value.id}`, created),
          row(
            `read  user ${authorId} with { posts: true }`,
            plural(postCount(after), 'post'),
            after,
            visible ? 'the new post is there' : 'STALE: the new post is missing',
          ),
          row(
            `read  user ${authorId}, no include`,
            name(aloneAfter),
            aloneAfter,
            aloneAfter.source === 'database' ? '' : 'still cached: it does not read Post',
          ),
        ],
        [3, 4],
      ),
      '',
    )
    out('   The write made every cached read involving Post stale (with Redis: in every instance); other entries')
    out('   stay. Nothing to delete by hand, no TTL to wait for.')

    stop.signal.throwIfAborted()
    // 3. An interactive transaction, rolled back -----------------------------------------------------------------
    out(heading('3. A rolled-back transaction leaves no trace'))
    const countPosts = () => observe(prisma, () => prisma.post.count({ where: { authorId } }))
    const beforeTx = await countPosts()
    let inside = Number.NaN
    const transaction = await observe(prisma, async () => {
      try {
        await prisma.$transaction(async (tx) => {
          await tx.post.create({ data: { title: 'A draft that never ships', authorId } })
          inside = await tx.post.count({ where: { authorId } })
          throw new ChangedMyMind()
        })
      } catch (error) {
        if (!(error instanceof ChangedMyMind)) throw error
      }
    })
    const afterTx = await countPosts()
    const database = await base.post.count({ where: { authorId } })
    const leftNoTrace = afterTx.value === beforeTx.value && database === beforeTx.value && inside === database + 1
    const code = (text: string, comment: string) => `   ${text.padEnd(60)}// ${comment}`
    out(
      '   await prisma.$transaction(async (tx) => {',
      `     await tx.post.create({ data: { title: 'A draft that never ships', authorId: ${authorId} } })`,
      code(`  await tx.post.count({ where: { authorId: ${authorId} } })`, `${inside}: it sees its own write`),
      code('  throw new ChangedMyMind()', 'ROLLBACK'),
      '   })',
      '',
    )
    out(
      columns(
        [
          header,
          row(`posts of user ${authorId}`, int(beforeTx.value), beforeTx),
          [
            'the transaction',
            `${int(inside)} inside`,
            'database',
            micros(transaction.us),
            int(transaction.sql),
            'reads in a transaction never use the cache',
          ],
          row('posts after the rollback', int(afterTx.value), afterTx, leftNoTrace ? 'no trace' : 'TRACE LEFT'),
          ['posts, plain client', int(database), 'database', '', '', 'the truth, without the cache'],
        ],
        [3, 4],
      ),
    )

    stop.signal.throwIfAborted()
    // 4. A read-heavy workload ---------------------------------------------------------------------------------
    // With Redis, a new instance joins: two app processes behind a load balancer, sharing Redis.
    const instances = redisUrl ? [prisma, await instance()] : [prisma]
    const steps = plan(opCount, { users: seeded.users, posts: seeded.posts, tags: seeded.tags.length })
    const writeShare = operationNames.reduce((sum, op) => {
      const operation: { share: number; write?: boolean } = operations[op]
      return sum + (operation.write ? operation.share : 0)
    }, 0)
    out(heading(`4. A read-heavy workload: ${int(opCount)} operations, ${Math.round(writeShare * 100)}% writes`))
    out(
      '   A few users and posts are far more popular than the rest (Zipf-like keys). The same sequence runs on the',
      `   plain client, then on ${redisUrl ? 'two cached instances sharing Redis, taking turns' : 'the cached client'}, one call at a time, the cache emptied first:`,
      '',
      "   await prisma.$cache.invalidate({ models: ['User', 'Profile', 'Post', 'Tag', 'Comment'] })",
      '',
    )
    await prisma.$cache.invalidate({ models: ['User', 'Profile', 'Post', 'Tag', 'Comment'] })
    const bar = (label: string) =>
      progressOutput === false
        ? undefined
        : progressBar(label, opCount, progressOutput === true ? process.stderr : progressOutput)
    const plainBar = bar('plain client')
    const plain = await run(steps, [base], () => sql.count, stop.signal, plainBar?.update)
    plainBar?.end()
    for (const client of instances) client.$cache.resetStats()
    // The cached client takes every call the plain one does: the workload's queries are typed for the plain one.
    const cachedBar = bar('cached client')
    const cached = await run(
      steps,
      instances as unknown as PrismaClient[],
      () => sql.count,
      stop.signal,
      cachedBar?.update,
    )
    cachedBar?.end()
    const snapshots = instances.map((c) => c.$cache.stats())
    const { hitRatio, models } = modelReport(snapshots, readsByModel(steps))
    const operationHitRatio = hitRatioByOperation(snapshots)
    const statementsSaved = plain.statements - cached.statements
    const speedup = plain.totalMs / cached.totalMs

    out(
      columns(
        [
          ['operation', 'share', 'calls', 'plain p50', 'p99', 'cached p50', 'p99', 'hit ratio'],
          ...operationNames.map((op) => {
            const operation: { share: number; write?: boolean } = operations[op]
            const [p, c] = [plain.byOperation[op], cached.byOperation[op]]
            const ratio = operationHitRatio[op]
            return [
              `${operation.write ? 'write' : 'read '} ${op}`,
              percent(operation.share),
              int(p.count),
              micros(p.p50),
              micros(p.p99),
              micros(c.p50),
              micros(c.p99),
              ratio === undefined ? '' : percent(ratio),
            ]
          }),
          [
            'all reads',
            '',
            int(plain.reads.count),
            micros(plain.reads.p50),
            micros(plain.reads.p99),
            micros(cached.reads.p50),
            micros(cached.reads.p99),
            percent(hitRatio),
          ],
        ],
        [1, 2, 3, 4, 5, 6, 7],
      ),
      '',
    )
    const hitColumns = redisUrl ? ['hits: memory', 'Redis'] : ['hits: memory']
    out(
      columns(
        [
          ['model', 'reads', ...hitColumns, 'misses: 1st read', 'after a write', 'hit ratio'],
          ...Object.entries(models).map(([model, m]) => [
            model,
            int(m.reads),
            int(m.memoryHits),
            ...(redisUrl ? [int(m.redisHits)] : []),
            int(m.firstReads),
            int(m.staleMisses),
            percent(m.hitRatio),
          ]),
          ['all', '', '', ...(redisUrl ? [''] : []), '', '', percent(hitRatio)],
        ],
        redisUrl ? [1, 2, 3, 4, 5, 6] : [1, 2, 3, 4, 5],
      ),
      '',
    )
    out(
      columns(
        [
          ['', 'plain', 'cached', ''],
          ['total time', `${int(plain.totalMs)} ms`, `${int(cached.totalMs)} ms`, compare(speedup)],
          [
            'database queries (SQL)',
            int(plain.statements),
            int(cached.statements),
            `${int(statementsSaved)} saved (${percent(statementsSaved / plain.statements)})`,
          ],
        ],
        [1, 2],
      ),
      '',
    )
    out(
      '   A miss is either the first read of a query or a read made stale by a write. Strata invalidates by the rows',
      '   a write touches: a new comment makes stale the comment list of its own post only, not every comment list.',
    )
    if (redisUrl) {
      out(
        '   With Redis, a miss also asks Redis and a write bumps a version there. Here that round trip costs more than',
        '   a query to SQLite, which runs inside this process; over a network database each saved query is worth more.',
      )
    }
    const errors = instances.reduce((n, c) => n + Object.values(c.$cache.stats().errors).reduce((a, b) => a + b, 0), 0)
    if (errors > 0) out(`   Cache-side errors (the database answered instead): ${errors}`)

    out(heading('Done'))
    out(
      `   Closed ${opened === 1 ? 'the cached client' : `${opened} cached clients`} ($cache.close()) and ` +
        `Prisma ($disconnect()); deleted the temporary database${redisUrl ? ` and this run's keys in Redis` : ''}.`,
    )

    return {
      tiers: redisUrl ? 'redis+memory' : 'memory',
      directory: dir,
      prefix,
      seeded,
      repeat,
      write: { before: postCount(before), after: postCount(after), visible, unrelated: aloneAfter.source },
      rollback: { before: beforeTx.value, inside, after: afterTx.value, database, leftNoTrace },
      workload: {
        operations: opCount,
        instances: instances.length,
        plain,
        cached,
        hitRatio,
        models,
        operationHitRatio,
        statementsSaved,
        speedup,
      },
    }
  } finally {
    for (const step of cleanup) await step().catch((error) => console.error('cleanup:', error))
    removeDir()
    process.off('SIGINT', interrupted)
  }
}

class ChangedMyMind extends Error {}

/** "2.7× faster", "1.3× slower" or "about the same", from plain time / cached time. */
function compare(speedup: number): string {
  if (speedup >= 1.05) return `${speedup.toFixed(1)}× faster`
  if (speedup <= 1 / 1.05) return `${(1 / speedup).toFixed(1)}× slower`
  return 'about the same'
}

function sourceOf(before: StatsSnapshot, after: StatsSnapshot): Source {
  if (after.localHits > before.localHits) return 'memory'
  if (after.redisHits > before.redisHits) return 'Redis'
  return 'database' // a miss, a bypass (in a transaction) or a write
}

/** Hits and misses of every instance, added up by model; misses split into first reads and stale entries. */
function modelReport(snapshots: StatsSnapshot[], reads: Record<string, { reads: number; firstReads: number }>) {
  const models: Record<string, ModelReport> = {}
  let hits = 0
  let misses = 0
  for (const [model, planned] of Object.entries(reads)) {
    const m = { reads: planned.reads, memoryHits: 0, redisHits: 0, firstReads: planned.firstReads, misses: 0 }
    for (const s of snapshots) {
      const c = s.models[model]
      if (!c) continue
      m.memoryHits += c.localHits + c.coalesced
      m.redisHits += c.redisHits
      m.misses += c.misses
    }
    hits += m.memoryHits + m.redisHits
    misses += m.misses
    models[model] = {
      reads: m.reads,
      memoryHits: m.memoryHits,
      redisHits: m.redisHits,
      firstReads: Math.min(m.firstReads, m.misses),
      staleMisses: Math.max(0, m.misses - m.firstReads),
      hitRatio: (m.memoryHits + m.redisHits) / Math.max(1, m.memoryHits + m.redisHits + m.misses),
    }
  }
  return { hitRatio: hits / Math.max(1, hits + misses), models }
}

/** Hit ratio of each read of the workload, from the per-operation counters of every instance added up. */
function hitRatioByOperation(snapshots: StatsSnapshot[]): Partial<Record<OperationName, number>> {
  const ratios: Partial<Record<OperationName, number>> = {}
  for (const name of operationNames) {
    const op: { model: string; operation: string; write?: boolean } = operations[name]
    if (op.write) continue
    let hits = 0
    let misses = 0
    for (const s of snapshots) {
      const c = s.models[op.model]?.operations[op.operation]
      if (!c) continue
      hits += c.localHits + c.redisHits + c.coalesced
      misses += c.misses
    }
    ratios[name] = hits / Math.max(1, hits + misses)
  }
  return ratios
}

/** Waits until a cached client may serve from memory (with Redis: once it listens for invalidations). */
async function ready(client: CachedClient): Promise<void> {
  const start = Date.now()
  while (!client.$cache.ready) {
    if (Date.now() - start > 5000) throw new Error('Strata did not subscribe to its Redis channel within 5 s')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.ping()
    return redis
  } catch (error) {
    redis.disconnect()
    throw new Error(
      `REDIS_URL is set but Redis at ${redactUrl(url)} did not answer (${(error as Error).message}). ` +
        'Start Redis, or unset REDIS_URL to run on the in-process tier alone.',
    )
  }
}

/** Removes what this run left in Redis: its version keys (`{prefix}:...`) and entries (`prefix:...`). */
async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of [`{${prefix}}:*`, `${prefix}:*`]) {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      if (keys.length > 0) await redis.unlink(...keys)
      cursor = next
    } while (cursor !== '0')
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    if ((error as Error)?.name === 'AbortError') process.exitCode = 130
    else {
      console.error(error instanceof Error ? error.message : error)
      process.exitCode = 1
    }
  })
}
