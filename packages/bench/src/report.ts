// The printed table, and the checks that say whether the numbers make sense.
import type { Contender } from './contenders.ts'
import type { Summary } from './measure.ts'
import type { Result } from './scenarios/hit-path.ts'

export function us(value: number): string {
  if (!Number.isFinite(value)) return '-'
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)
}

function ratio(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-'
  return `${value < 0.1 ? value.toFixed(4) : value < 10 ? value.toFixed(3) : value.toFixed(1)}×`
}

export function table(results: Result[]): string {
  const header = ['contender', 'median µs', 'p99 µs', 'ops/s', '÷ findUnique', '÷ QE floor']
  const rows = results.map((r) => [
    r.label,
    us(r.summary.median),
    us(r.summary.p99),
    Math.round(r.summary.opsPerSec).toLocaleString('en-US'),
    ratio(r.ratioToFindUnique),
    ratio(r.ratioToQueryFloor),
  ])
  return markdownTable(header, rows)
}

/** A Markdown table: the first `textColumns` columns left-aligned, the others right-aligned (numbers). */
export function markdownTable(header: string[], rows: string[][], textColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)))
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (i < textColumns ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i < textColumns ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

export interface Check {
  ok: boolean
  text: string
}

/** What must hold if the run measured what it claims to. */
export function checks(
  contenders: Contender[],
  summaries: Map<string, Summary>,
  paired: (a: string, b: string) => number | undefined,
  measured: number,
): Check[] {
  const out: Check[] = []
  const median = (key: string) => summaries.get(key)?.median
  const local = median('strata.local')
  const twoTier = median('strata.two-tier')
  const redisHit = median('strata.redis')
  const floor = median('floor.query.minimal')
  const floorDefault = median('floor.query.default')
  const get = median('redis.get')
  if (local !== undefined && floor !== undefined) {
    const r = paired('strata.local', 'floor.query.minimal') as number
    out.push({
      ok: r < 1,
      text: `Strata local hit ${us(local)} µs vs query-extension floor ${us(floor)} µs: ${(1 / r).toFixed(2)}× faster`,
    })
  }
  if (local !== undefined) {
    out.push({ ok: local <= 10, text: `Strata local hit within a few µs (≤ 10): ${us(local)} µs` })
  }
  if (twoTier !== undefined && local !== undefined) {
    out.push({
      ok: (paired('strata.two-tier', 'strata.local') as number) <= 1.5,
      text: `two-tier hit ≈ local hit (the bus is up, no Redis call): ${us(twoTier)} vs ${us(local)} µs`,
    })
  }
  if (redisHit !== undefined && get !== undefined) {
    const r = paired('strata.redis', 'redis.get') as number
    out.push({
      ok: r >= 0.7 && r <= 1.15,
      text:
        `Strata Redis-only hit ≈ one round trip (≤ 1.15×): ${us(redisHit)} µs vs raw GET + unpack ${us(get)} µs ` +
        `(paired ${r.toFixed(2)}×)`,
    })
  }
  const getInModel = median('redis.get.model')
  if (redisHit !== undefined && getInModel !== undefined) {
    // Prisma's dispatch to an extension method is a floor no cache extension avoids: the ratio with it included.
    const r = paired('strata.redis', 'redis.get.model') as number
    out.push({
      ok: true,
      text:
        `Strata Redis-only hit vs the same GET + unpack in a model-component method: ${us(redisHit)} vs ` +
        `${us(getInModel)} µs (paired ${r.toFixed(2)}×)`,
    })
  }
  if (floor !== undefined && floorDefault !== undefined) {
    const r = paired('floor.query.default', 'floor.query.minimal') as number
    out.push({
      ok: true,
      text: `errorFormat: query-extension floor ${us(floorDefault)} µs default vs ${us(floor)} µs minimal (${r.toFixed(2)}×)`,
    })
  }
  for (const c of contenders) {
    if (!c.strata) continue
    const s = c.strata.stats()
    const hits = s[c.strata.expectHits]
    const clean = hits === measured && s.misses === 0 && s.bypasses === 0
    out.push({
      ok: clean,
      text:
        `${c.key}: ${hits}/${measured} measured calls were ${c.strata.expectHits}` +
        ` (localHits ${s.localHits}, redisHits ${s.redisHits}, misses ${s.misses}, bypasses ${s.bypasses})`,
    })
  }
  return out
}
