// One process of the memory scenario, so its RSS is its own: a SQLite database of `queries` (+ 1,000) posts, a Prisma client,
// and for Strata `cache({ local: { maxBytes } })` (the local tier alone). `run` reads every post once by id, 100
// reads in flight at a time (Prisma batches them), so each read is a distinct query: a miss that fills an entry
// until the bound is reached, then evicts. RSS and the local tier's bytes are sampled as it goes.
import { cache } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/sqlite/client/client.ts'
import { createSqliteDatabase } from '../../../../prisma/database.ts'
import { fullGc } from '../measure.ts'
import { serve, workerConfig } from './protocol.ts'

export interface MemoryConfig {
  mode: 'prisma' | 'strata'
  queries: number
  maxBytes: number
}

export interface MemoryReport {
  mode: MemoryConfig['mode']
  queries: number
  /** MiB after setup and 1,000 warm-up reads, after a full GC. */
  baselineRssMiB: number
  baselineHeapMiB: number
  baselineHeapTotalMiB: number
  /** [queries done, RSS MiB, local tier bytes] every 5% of the run. */
  series: [number, number, number][]
  /** The highest RSS sampled (every 1,000 queries), and the OS's own peak for the whole process. */
  peakRssMiB: number
  maxRssMiB: number
  /**
   * At the sample of the highest RSS: the heap V8 had reserved, what it used (garbage included), and memory
   * outside it (Buffers, WebAssembly memories: their whole size, touched or not).
   */
  peakHeapTotalMiB: number
  peakHeapUsedMiB: number
  peakExternalMiB: number
  /** The highest local-tier size seen (bytes as the tier accounts them) and its entries at the end. */
  maxLocalBytes: number
  localEntries: number
  /** After the run and a full GC: heap still held, the heap reserved, memory outside it, and RSS. */
  endHeapMiB: number
  endHeapTotalMiB: number
  endExternalMiB: number
  endRssMiB: number
  /**
   * Strata: the heap the local tier itself held at the end, what a full GC freed once it was emptied (closing the
   * cache); the rest of `endHeapMiB` is the other state a cache keeps (versions it knows, dependency memo).
   */
  tierHeapMiB: number
  misses: number
  seconds: number
}

const config = workerConfig<MemoryConfig>()
const MiB = 2 ** 20

const db = await createSqliteDatabase()
const base = new PrismaClient({ adapter: db.adapter(), errorFormat: 'minimal' })
await base.$executeRawUnsafe(
  `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${config.queries + 1000}) ` +
    `INSERT INTO "Post" (id, title, published, views) SELECT i, 'Post number ' || i, 1, i FROM n`,
)
const strata = config.mode === 'strata' ? base.$extends(cache({ local: { maxBytes: config.maxBytes } })) : undefined
const posts = (strata ?? base).post as unknown as { findUnique(args: { where: { id: number } }): Promise<unknown> }
const localBytes = () => strata?.$cache.stats().local.bytes ?? 0

async function run(): Promise<MemoryReport> {
  const read = async (from: number, to: number) => {
    const batch: Promise<unknown>[] = []
    for (let id = from; id < to; id++) batch.push(posts.findUnique({ where: { id } }))
    await Promise.all(batch)
  }
  await read(config.queries + 1, config.queries + 1001) // warm-up on rows the run does not read
  strata?.$cache.resetStats()
  fullGc() // baseline and end measure what is held, not garbage
  const baseline = process.memoryUsage()
  const series: MemoryReport['series'] = []
  let peak = baseline
  let maxLocalBytes = localBytes()
  const samplePeak = () => {
    const now = process.memoryUsage()
    if (now.rss > peak.rss) peak = now
  }
  const start = performance.now()
  const step = Math.max(1000, Math.floor(config.queries / 20))
  let nextSample = step
  for (let done = 0; done < config.queries; ) {
    const to = Math.min(done + 100, config.queries)
    await read(done + 1, to + 1)
    done = to
    if (done % 1000 === 0) {
      samplePeak()
      maxLocalBytes = Math.max(maxLocalBytes, localBytes())
    }
    if (done >= nextSample || done === config.queries) {
      series.push([done, round(process.memoryUsage.rss() / MiB), localBytes()])
      nextSample += step
    }
  }
  const seconds = (performance.now() - start) / 1000
  samplePeak()
  maxLocalBytes = Math.max(maxLocalBytes, localBytes())
  fullGc()
  const end = process.memoryUsage()
  const misses = strata?.$cache.stats().misses ?? 0
  const localEntries = strata?.$cache.stats().local.entries ?? 0
  let tierHeapMiB = 0
  if (strata) {
    await close()
    fullGc()
    tierHeapMiB = round((end.heapUsed - process.memoryUsage().heapUsed) / MiB)
  }
  return {
    mode: config.mode,
    queries: config.queries,
    baselineRssMiB: round(baseline.rss / MiB),
    baselineHeapMiB: round(baseline.heapUsed / MiB),
    baselineHeapTotalMiB: round(baseline.heapTotal / MiB),
    series,
    peakRssMiB: round(peak.rss / MiB),
    maxRssMiB: round((process.resourceUsage().maxRSS * 1024) / MiB),
    peakHeapTotalMiB: round(peak.heapTotal / MiB),
    peakHeapUsedMiB: round(peak.heapUsed / MiB),
    peakExternalMiB: round(peak.external / MiB),
    maxLocalBytes,
    localEntries,
    endHeapMiB: round(end.heapUsed / MiB),
    endHeapTotalMiB: round(end.heapTotal / MiB),
    endExternalMiB: round(end.external / MiB),
    endRssMiB: round(end.rss / MiB),
    tierHeapMiB,
    misses,
    seconds: round(seconds),
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10
}

let closed: Promise<void> | undefined
const close = () => {
  closed ??= strata?.$cache.close()
  return closed
}

await serve({ run }, async () => {
  await close()
  await base.$disconnect()
  await db.drop()
})
