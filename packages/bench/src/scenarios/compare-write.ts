// The comparison's write case: the time of one `update` while many entries of the model are cached. Each cache is
// first filled with `entries` distinct point reads (one per row); then each contender writes, one write per round,
// in rotating order. Strata bumps one version whatever is cached; prisma-extension-redis SCANs its keyspace for the
// model's keys and UNLINKs them. Its entries are gone after a write, so before each of its later writes they are
// put back as they were (the same keys, values and remaining TTLs, copied out of Redis after the fill, untimed).
// Strata's entries stay where they are (made stale by the first write): its write does not depend on them.
import type { Redis } from 'ioredis'
import { fullGc } from '../measure.ts'
import type { Check } from '../report.ts'
import { type CompareContender, type Contenders, type Posts, strataCounters } from './compare-contenders.ts'
import { countKeys } from './redis-keys.ts'

export interface WriteRow {
  key: string
  label: string
  /** Seconds the fill took (0 for contenders that cache nothing), and the cache errors it counted. */
  fillSeconds: number
  fillErrors: number
  /** Entries held just before the first write and just after it (Redis keys, or local entries). */
  entriesBefore: number | undefined
  entriesAfter: number | undefined
  /** Ms of each timed write, in round order; the first was made with every entry fresh. */
  writesMs: number[]
  firstMs: number
  medianMs: number
  /** ÷ Prisma uncached, paired by round (median over rounds). */
  ratioToPrisma: number
  /** Redis commands the server counted during each write, summed over the writes, by name (throwaway server). */
  redisCommands: Record<string, number> | undefined
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/** Runs `work` over `items`, at most `concurrency` at a time. */
async function pool<T>(items: T[], concurrency: number, work: (item: T) => PromiseLike<unknown>): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T)
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
}

/** The keys, values and remaining TTLs under `match`, to put back later. */
async function snapshot(redis: Redis, match: string) {
  const entries: [string, string, number][] = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    if (keys.length) {
      const pipeline = redis.pipeline()
      for (const key of keys) pipeline.get(key).pttl(key)
      const replies = (await pipeline.exec()) ?? []
      keys.forEach((key, i) => {
        const value = replies[2 * i]?.[1]
        const ttl = Number(replies[2 * i + 1]?.[1])
        if (typeof value === 'string' && ttl > 0) entries.push([key, value, ttl])
      })
    }
    cursor = next
  } while (cursor !== '0')
  return {
    size: entries.length,
    async restore() {
      for (let i = 0; i < entries.length; i += 1000) {
        const pipeline = redis.pipeline()
        for (const [key, value, ttl] of entries.slice(i, i + 1000)) pipeline.set(key, value, 'PX', ttl)
        await pipeline.exec()
      }
    },
  }
}

export async function runWrite(
  contenders: Contenders,
  options: { ids: number[]; rounds: number; commandCalls: (() => Promise<Record<string, number>>) | undefined },
): Promise<{ rows: WriteRow[]; checks: Check[] }> {
  // Strata Redis-only on the two-tier instance's prefix: the two-tier fill puts the entries in Redis for both.
  const redisOnly = await contenders.openStrata({
    redis: contenders.redis,
    prefix: contenders.strataPrefixes.twoTier,
    local: false,
  })
  const list: CompareContender[] = contenders.list.map((c) =>
    c.key === 'strata.redis'
      ? {
          ...c,
          ...redisOnly,
          counters: strataCounters(redisOnly.strata),
          resetCounters: () => redisOnly.strata.resetStats(),
          entries: () => countKeys(contenders.redis, `${contenders.strataPrefixes.twoTier}:*`),
          description: `${c.description} Here on the two-tier instance's prefix: the two-tier fill put its entries in Redis.`,
        }
      : c,
  )
  // One untimed write each first: the first timed write then measures the cache, not a cold code path.
  for (const c of list) await c.posts.update({ where: { id: options.ids[0] as number }, data: { views: 0 } })
  const fillSeconds = new Map<string, number>()
  const fillErrors = new Map<string, number>()
  const extension = list.find((c) => c.key === 'extension-redis') as CompareContender
  for (const c of list) {
    if (!c.counters || c.key === 'strata.redis') continue
    c.resetCounters?.()
    const start = performance.now()
    if (c === extension) {
      // Without a query per entry (its fill would take minutes here): the rows in one query, then its own cache().
      const [gte, lte] = [options.ids[0] as number, options.ids.at(-1) as number] // the ids are consecutive
      const rows = await (list[0] as CompareContender).posts.findMany({ where: { id: { gte, lte } } })
      await contenders.extensionPut(rows as { id: number }[])
    } else {
      await pool(options.ids, 16, (id) => c.posts.findUnique({ where: { id } }))
    }
    fillSeconds.set(c.key, (performance.now() - start) / 1000)
    fillErrors.set(c.key, c.counters().errors)
    process.stderr.write(`write: filled ${c.label} (${options.ids.length} entries)\n`)
  }
  const saved = await snapshot(contenders.extensionRedis, `${contenders.extensionPrefix}*`)
  // Its entries answer its reads: a sample of them must all be hits.
  extension.resetCounters?.()
  const sample = options.ids.filter((_, i) => i % Math.ceil(options.ids.length / 100) === 0)
  for (const id of sample) await extension.posts.findUnique({ where: { id } })
  const sampleHits = extension.counters?.().hits ?? 0

  const hot = options.ids[0] as number
  const writes = new Map(list.map((c) => [c.key, [] as number[]]))
  const entries = new Map<string, [number | undefined, number | undefined]>()
  const commands = new Map<string, Record<string, number>>()
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < list.length; i++) {
      const c = list[(i + round) % list.length] as CompareContender
      if (c === extension && round > 0) await saved.restore()
      const before = await c.entries?.()
      const calls = await options.commandCalls?.()
      fullGc() // the fill's garbage is collected now, not during someone's write
      const start = performance.now()
      await (c.posts as Posts).update({ where: { id: hot }, data: { views: round + 1 } })
      writes.get(c.key)?.push(performance.now() - start)
      const after = await options.commandCalls?.()
      if (calls && after) addDelta(commands, c.key, calls, after)
      if (round === 0) entries.set(c.key, [before, await c.entries?.()])
    }
    process.stderr.write(`write: round ${round + 1}/${options.rounds}\r`)
  }
  process.stderr.write('\n')

  const prisma = writes.get('prisma') as number[]
  const rows = list.map((c): WriteRow => {
    const ms = writes.get(c.key) as number[]
    return {
      key: c.key,
      label: c.label,
      fillSeconds: fillSeconds.get(c.key) ?? 0,
      fillErrors: fillErrors.get(c.key) ?? 0,
      entriesBefore: entries.get(c.key)?.[0],
      entriesAfter: entries.get(c.key)?.[1],
      writesMs: ms.map((m) => Math.round(m * 1000) / 1000),
      firstMs: ms[0] as number,
      medianMs: median(ms),
      ratioToPrisma: median(ms.map((m, i) => m / (prisma[i] as number))),
      redisCommands: commands.get(c.key),
    }
  })
  const checks: Check[] = rows
    .filter((r) => fillSeconds.has(r.key) || r.key === 'strata.redis')
    .map((r) => ({
      ok: (r.entriesBefore ?? 0) >= options.ids.length && r.fillErrors === 0,
      text:
        `write: ${r.label} held ${r.entriesBefore} entries before its first write (${options.ids.length} filled, ` +
        `${r.fillErrors} cache errors during the fill)`,
    }))
  checks.push({
    ok: sampleHits === sample.length,
    text: `write: prisma-extension-redis answered ${sampleHits} of ${sample.length} sampled reads of its entries from Redis`,
  })
  checks.push({
    ok: saved.size >= options.ids.length,
    text: `write: prisma-extension-redis's ${saved.size} keys were put back before each of its later writes`,
  })
  return { rows, checks }
}

function addDelta(
  into: Map<string, Record<string, number>>,
  key: string,
  before: Record<string, number>,
  after: Record<string, number>,
) {
  const sums = into.get(key) ?? {}
  for (const [name, calls] of Object.entries(after)) {
    if (name === 'info') continue // our own INFO commandstats
    const delta = calls - (before[name] ?? 0)
    if (delta > 0) sums[name] = (sums[name] ?? 0) + delta
  }
  into.set(key, sums)
}
