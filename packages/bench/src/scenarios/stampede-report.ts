// The stampede scenario's table (one row per contender and round) and its checks.
import { type Check, markdownTable } from '../report.ts'
import type { BurstReport, StampedeMode } from '../workers/stampede.ts'

export interface Round {
  round: number
  processes: BurstReport[]
}

interface Contender {
  mode: StampedeMode
  label: string
  rounds: Round[]
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
export const queries = (r: Round) => sum(r.processes.map((p) => p.queries))
/** Ms from the first process starting its burst to the last read served anywhere. */
export const span = (r: Round) =>
  Math.max(...r.processes.map((p) => p.end)) - Math.min(...r.processes.map((p) => p.start))
const ms = (value: number) => (value < 10 ? value.toFixed(1) : value.toFixed(0))

export function stampedeTable(contenders: Contender[], reads: number): string {
  const header = ['contender', 'round', 'DB queries', 'by process', `ms to serve ${reads.toLocaleString('en-US')}`]
  header.push('ms by process', 'Redis hits', 'misses', 'coalesced')
  const rows = contenders.flatMap((c) =>
    c.rounds.map((r, i) => {
      const stat = (key: 'redisHits' | 'misses' | 'coalesced') =>
        r.processes[0]?.strata ? String(sum(r.processes.map((p) => p.strata?.[key] ?? 0))) : '-'
      return [
        i === 0 ? c.label : '',
        String(r.round),
        queries(r).toLocaleString('en-US'),
        r.processes.map((p) => p.queries).join(' / '),
        ms(span(r)),
        r.processes.map((p) => ms(p.end - p.start)).join(' / '),
        stat('redisHits'),
        stat('misses'),
        stat('coalesced'),
      ]
    }),
  )
  return markdownTable(header, rows, 2)
}

export function stampedeChecks(contenders: Contender[], processes: number, reads: number): Check[] {
  const out: Check[] = []
  const each = (c: Contender) => c.rounds.map(queries).join(', ')
  for (const c of contenders) {
    const all = c.rounds.map(queries)
    if (c.mode === 'prisma') {
      out.push({
        ok: all.every((q) => q === processes * reads),
        text: `${c.label}: every read reached the database (${processes * reads} per round): ${each(c)}`,
      })
    } else if (c.mode === 'strata') {
      out.push({
        ok: c.rounds.every((r) => r.processes.every((p) => p.queries <= 1)),
        text: `${c.label}: at most one query per process (≤ ${processes} per round): ${each(c)}`,
      })
    } else {
      out.push({ ok: all.every((q) => q === 1), text: `${c.label}: one query in all per round: ${each(c)}` })
    }
    const wrong = sum(c.rounds.flatMap((r) => r.processes.map((p) => p.wrong)))
    const errors = c.rounds.flatMap((r) => r.processes.flatMap((p) => Object.entries(p.errors ?? {})))
    out.push({
      ok: wrong === 0 && errors.length === 0,
      text: `${c.label}: every read returned the row (${wrong} did not); cache errors: ${errors.length === 0 ? 'none' : JSON.stringify(errors)}`,
    })
  }
  return out
}
