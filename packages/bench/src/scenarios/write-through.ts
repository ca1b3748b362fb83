// Strategy `invalidate` (the default: a write makes every cached read of the model stale) against `write-through`
// (a write puts the new row into its point-read entry): point reads (`findUnique` by id) of rows drawn uniformly,
// 10% of operations an `update` of a row drawn the same way, on Strata two-tier (PostgreSQL, Redis). Reads alone
// (no writes) give the reference hit ratio. Each configuration has its own rows and its own cache prefix, so none
// sees another's writes; they take turns round by round. Every read is checked against the last value written.
import { PrismaPg } from '@prisma/adapter-pg'
import { type CacheHandle, type CacheOptions, cache, StrataOptionsError } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { Samples, type Summary } from '../measure.ts'
import type { BenchOptions } from '../options.ts'
import { type Check, markdownTable, us } from '../report.ts'
import { type Defer, withCleanup } from './cleanup.ts'
import { startServices } from './services.ts'

interface Config {
  key: string
  label: string
  writeShare: number
  models: CacheOptions['models']
}

const configs: Config[] = [
  { key: 'reads-only', label: 'reads only (no writes)', writeShare: 0, models: undefined },
  { key: 'invalidate', label: 'invalidate (default), 10% writes', writeShare: 0.1, models: undefined },
  {
    key: 'write-through',
    label: 'write-through, 10% writes',
    writeShare: 0.1,
    // Typed loosely: the option is newer than some builds this file may run against.
    models: { Post: { strategy: 'write-through' } } as unknown as CacheOptions['models'],
  },
]

interface Row {
  title: string
}

interface Posts {
  findUnique(args: { where: { id: number } }): PromiseLike<Row | null>
  update(args: { where: { id: number }; data: { title: string } }): PromiseLike<unknown>
}

interface Instance extends Config {
  posts: Posts
  strata: CacheHandle
  ids: number[]
  /** The title last written to each row. */
  written: Map<number, string>
  reads: Samples
  writes: Samples
  /** Reads that returned another title than the last one written. */
  stale: number
}

const rand = (n: number) => Math.floor(Math.random() * n)

export function runWriteThrough(options: BenchOptions) {
  const o = options.writeThrough
  console.log(
    `Write-through: findUnique by id over ${o.rows} rows per configuration, ${o.ops} operations each ` +
      `(10% update by id), ${o.rounds} rounds, Strata two-tier`,
  )
  return withCleanup(async (defer) => {
    const services = await startServices(options, defer)
    if ('skipped' in services) {
      console.log(`skipped write-through: ${services.skipped}`)
      return { skipped: services.skipped }
    }
    const base = new PrismaClient({
      adapter: new PrismaPg({ connectionString: services.db.url }),
      errorFormat: 'minimal',
    })
    defer(() => base.$disconnect())
    await base.$executeRawUnsafe(
      `INSERT INTO "Post" (title, published, views) SELECT 'v0', true, 0 FROM generate_series(1, ${o.rows * configs.length})`,
    )
    const [first] = await base.$queryRawUnsafe<{ id: number }[]>('SELECT min(id)::int AS id FROM "Post"')
    const idsOf = (i: number) => Array.from({ length: o.rows }, (_, k) => (first?.id as number) + i * o.rows + k)
    let instances: Instance[]
    try {
      instances = []
      for (const [i, c] of configs.entries()) {
        const at = { redis: services.redisUrl, prefix: `${services.prefix}-${c.key}` }
        instances.push(await openInstance(c, base, at, defer, idsOf(i), o.ops))
      }
    } catch (error) {
      // Until prisma-strata has the option, `cache(...)` rejects it: say so, and let the other scenarios run.
      if (!(error instanceof StrataOptionsError)) throw error
      const reason = `this prisma-strata does not accept the option yet: ${error.message}`
      console.log(`skipped write-through: ${reason}`)
      return { skipped: reason }
    }

    // Warm-up: every row read once (both tiers filled), then every counter from zero.
    for (const x of instances) {
      for (const id of x.ids) await x.posts.findUnique({ where: { id } })
      x.strata.resetStats()
    }
    const perRound = Math.ceil(o.ops / o.rounds)
    for (let round = 0; round < o.rounds; round++) {
      for (let i = 0; i < instances.length; i++) {
        await runRound(instances[(i + round) % instances.length] as Instance, perRound)
      }
      process.stderr.write(`round ${round + 1}/${o.rounds}\r`)
    }
    process.stderr.write('\n')

    const rows = instances.map((x) => {
      const s = x.strata.stats()
      const hits = s.localHits + s.redisHits + s.coalesced
      return {
        key: x.key,
        label: x.label,
        hitRatio: hits + s.misses === 0 ? 0 : hits / (hits + s.misses),
        stats: { localHits: s.localHits, redisHits: s.redisHits, coalesced: s.coalesced, misses: s.misses },
        errors: s.errors,
        read: x.reads.summary(),
        write: x.writes.values().length ? x.writes.summary() : undefined,
        staleReads: x.stale,
      }
    })
    const checks: Check[] = rows.map((r) => ({
      ok: r.staleReads === 0 && Object.keys(r.errors).length === 0,
      text: `${r.label}: ${r.staleReads} reads older than the last write; cache errors: ${JSON.stringify(r.errors)}`,
    }))
    console.log()
    console.log(table(rows))
    console.log()
    for (const v of checks) console.log(`${v.ok ? 'ok  ' : 'WARN'} ${v.text}`)
    return {
      config: { ...o, writeShare: 0.1, cache: 'cache({ redis, models: { Post: { strategy } } })' },
      services: services.info,
      units:
        'µs per call (sequential awaited calls); hit ratio: (localHits + redisHits + coalesced) / (those + misses)',
      rows,
      checks,
    }
  })
}

async function openInstance(
  c: Config,
  client: PrismaClient,
  at: { redis: string; prefix: string },
  defer: Defer,
  ids: number[],
  ops: number,
): Promise<Instance> {
  const options: CacheOptions = { redis: at.redis, prefix: at.prefix, ttl: 600 }
  if (c.models) options.models = c.models
  const cached = client.$extends(cache(options))
  defer(() => cached.$cache.close())
  if (!(await cached.$cache.whenReady(10_000))) throw new Error(`${c.label}: the invalidation bus did not subscribe`)
  return {
    ...c,
    posts: cached.post as unknown as Posts,
    strata: cached.$cache,
    ids,
    written: new Map(ids.map((id) => [id, 'v0'])),
    reads: new Samples(ops + 1000),
    writes: new Samples(ops + 1000),
    stale: 0,
  }
}

/** `n` operations, one at a time: an update with probability `writeShare`, else a read; each read checked. */
async function runRound(x: Instance, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const id = x.ids[rand(x.ids.length)] as number
    const t0 = performance.now()
    if (Math.random() < x.writeShare) {
      const title = `v${i}-${t0}`
      await x.posts.update({ where: { id }, data: { title } })
      x.writes.push((performance.now() - t0) * 1000)
      x.written.set(id, title)
    } else {
      const row = await x.posts.findUnique({ where: { id } })
      x.reads.push((performance.now() - t0) * 1000)
      if (row?.title !== x.written.get(id)) x.stale++
    }
  }
  x.reads.endBatch()
  x.writes.endBatch()
}

function table(rows: { label: string; hitRatio: number; read: Summary; write: Summary | undefined }[]): string {
  const header = ['configuration', 'hit ratio', 'read p50 µs', 'read p99 µs', 'write p50 µs']
  return markdownTable(
    header,
    rows.map((r) => [
      r.label,
      `${(r.hitRatio * 100).toFixed(1)}%`,
      us(r.read.median),
      us(r.read.p99),
      r.write ? us(r.write.median) : '-',
    ]),
  )
}
