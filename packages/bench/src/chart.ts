// The chart the root README shows, written as plain SVG text from the run's report: one panel per comparison case
// (bars on a log scale, one per contender), plus the write-through hit ratios and the memory scenario when they ran.
// Returns undefined when the comparison did not run (nothing to draw).

interface Bar {
  label: string
  value: number
  text: string
  color: string
}

interface Panel {
  title: string
  note: string
  bars: Bar[]
  log: boolean
}

const colors: Record<string, string> = {
  prisma: '#8c8c8c',
  floor: '#bdbdbd',
  'round-trip': '#d9d9d9',
  'extension-redis': '#e8833a',
  'strata.local': '#1f77b4',
  'strata.redis': '#6baed6',
  'strata.two-tier': '#08519c',
  'strata.write-through': '#2ca02c',
}

const WIDTH = 1080
const COLUMN = 525
const LABEL = 160
const PLOT = 215
const BAR = 15
const GAP = 6

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const num = (v: number) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'))

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(content)}</text>`
}

/** One panel at (x, y); returns its SVG and height. */
function panel(p: Panel, x: number, y: number): { svg: string; height: number } {
  const values = p.bars.map((b) => b.value).filter((v) => v > 0)
  // Half the smallest value still gets a visible bar: a decade below it when it sits near a power of ten.
  const lo = p.log ? 10 ** Math.floor(Math.log10(Math.min(...values) / 2)) : 0
  const hi = p.log ? 10 ** Math.ceil(Math.log10(Math.max(...values) * 1.0001)) : Math.max(...values) * 1.05
  const scale = (v: number) =>
    p.log ? (PLOT * Math.log10(Math.max(v, lo) / lo)) / Math.log10(hi / lo) : (PLOT * v) / (hi || 1)
  const top = y + 40
  const out = [
    text(x, y + 14, p.title, 'font-weight="bold" font-size="13"'),
    text(x, y + 30, p.note, 'font-size="11" fill="#555"'),
  ]
  const step = p.log ? 0 : niceStep(hi / 3)
  const ticks = p.log
    ? Array.from({ length: Math.round(Math.log10(hi / lo)) + 1 }, (_, i) => lo * 10 ** i)
    : Array.from({ length: Math.floor(hi / step) + 1 }, (_, i) => i * step)
  const plotBottom = top + p.bars.length * (BAR + GAP)
  for (const t of ticks) {
    const tx = x + LABEL + scale(t)
    out.push(`<line x1="${tx.toFixed(1)}" y1="${top - 4}" x2="${tx.toFixed(1)}" y2="${plotBottom}" stroke="#e3e3e3"/>`)
    const label = t < 1 ? String(+t.toPrecision(2)) : Math.round(t).toLocaleString('en-US')
    out.push(text(tx, plotBottom + 12, label, 'font-size="10" fill="#777" text-anchor="middle"'))
  }
  p.bars.forEach((b, i) => {
    const by = top + i * (BAR + GAP)
    const w = Math.max(1, scale(b.value))
    out.push(text(x + LABEL - 6, by + BAR - 3, b.label, 'font-size="11" text-anchor="end"'))
    out.push(`<rect x="${x + LABEL}" y="${by}" width="${w.toFixed(1)}" height="${BAR}" fill="${b.color}"/>`)
    out.push(text(x + LABEL + w + 4, by + BAR - 3, b.text, 'font-size="10.5"'))
  })
  return { svg: out.join('\n'), height: plotBottom + 22 - y }
}

/** 1, 2 or 5 times a power of ten, at least `rough`. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough || 1))
  return ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power
}

type Rows = { key: string; label: string }[]

function latencyPanel(title: string, rows: unknown): Panel {
  const r = rows as (Rows[number] & { summary: { median: number }; ratioToPrisma: number })[]
  return {
    title,
    note: 'median µs per call, log scale (shorter is faster); × = ÷ Prisma uncached',
    log: true,
    bars: r.map((x) => ({
      label: x.label,
      value: x.summary.median,
      text: `${num(x.summary.median)} µs  (${ratio(x.ratioToPrisma)})`,
      color: colors[x.key] ?? '#999',
    })),
  }
}

function ratio(v: number): string {
  return `${v < 0.1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(0)}×`
}

export function chart(report: Record<string, unknown>): string | undefined {
  const compare = report.compare as Record<string, unknown> | undefined
  // A run of the latency cases alone (--latency-only) draws no chart.
  if (!compare || !compare.pointHit || !compare.mix) return undefined
  const config = compare.config as { entries: number; mixKeys: number; mixConcurrency: number }
  const write = compare.write as (Rows[number] & { medianMs: number; ratioToPrisma: number })[]
  const mix = compare.mix as (Rows[number] & { opsPerSec: number; hitRatio?: number })[]
  const panels: Panel[] = [
    latencyPanel('Point read (findUnique), cache hit', compare.pointHit),
    latencyPanel('List read with relations (findMany + include), hit', compare.listHit),
    latencyPanel('Miss (new arguments every call)', compare.miss),
    {
      title: `Write (update) with ${config.entries.toLocaleString('en-US')} entries cached`,
      note: 'median ms per write, log scale (shorter is faster)',
      log: true,
      bars: write.map((x) => ({
        label: x.label,
        value: x.medianMs,
        text: `${num(x.medianMs)} ms  (${ratio(x.ratioToPrisma)})`,
        color: colors[x.key] ?? '#999',
      })),
    },
    {
      title: `90/10 read/write mix, ${config.mixKeys.toLocaleString('en-US')} rows, ${config.mixConcurrency} in flight`,
      note: 'operations per second (longer is faster); cache hit ratio in brackets',
      log: false,
      bars: mix.map((x) => ({
        label: x.label,
        value: x.opsPerSec,
        text: `${Math.round(x.opsPerSec).toLocaleString('en-US')}${x.hitRatio === undefined ? '' : `  (${(x.hitRatio * 100).toFixed(0)}% hits)`}`,
        color: colors[x.key] ?? '#999',
      })),
    },
  ]
  const wt = report.writeThrough as { rows?: { label: string; hitRatio: number; read: { median: number } }[] }
  if (wt?.rows) {
    panels.push({
      title: 'Strategy: hit ratio of point reads, 10% writes',
      note: 'Strata two-tier, uniform over the rows; read p50 µs in brackets',
      log: false,
      bars: wt.rows.map((x, i) => ({
        label: x.label.replace(', 10% writes', ''),
        value: x.hitRatio * 100,
        text: `${(x.hitRatio * 100).toFixed(1)}%  (${num(x.read.median)} µs)`,
        color: ['#bdbdbd', '#6baed6', '#08519c'][i] ?? '#999',
      })),
    })
  }
  const memory = report.memory as { config?: { maxMiB: number; queries: number }; strata?: Mem; prisma?: Mem }
  if (memory?.strata && memory.prisma && memory.config) {
    const m = memory.config
    panels.push({
      title: `Peak RSS, ${m.queries.toLocaleString('en-US')} distinct queries`,
      note: `MiB; Strata's local tier bounded at ${m.maxMiB} MiB`,
      log: false,
      bars: [
        {
          label: 'Prisma, uncached',
          value: memory.prisma.peakRssMiB,
          text: `${num(memory.prisma.peakRssMiB)} MiB`,
          color: colors.prisma as string,
        },
        {
          label: 'Strata local-only',
          value: memory.strata.peakRssMiB,
          text:
            `${num(memory.strata.peakRssMiB)} MiB  (tier ≤ ${(memory.strata.maxLocalBytes / 2 ** 20).toFixed(1)} MiB; ` +
            `heap after GC +${num(memory.strata.endHeapMiB - memory.prisma.endHeapMiB)} MiB)`,
          color: colors['strata.local'] as string,
        },
      ],
    })
  }

  const parts: string[] = []
  let y = 44
  for (let i = 0; i < panels.length; i += 2) {
    const left = panel(panels[i] as Panel, 10, y)
    const right = panels[i + 1] ? panel(panels[i + 1] as Panel, 10 + COLUMN + 20, y) : { svg: '', height: 0 }
    parts.push(left.svg, right.svg)
    y += Math.max(left.height, right.height) + 16
  }
  const machine = report.machine as { cpu: string; cores: number; node: string }
  const source = report.source as { commit?: string }
  const title = 'Strata vs prisma-extension-redis vs uncached Prisma 7 (PostgreSQL, Redis on loopback)'
  const footer =
    `npm run bench, ${String(report.date).slice(0, 10)}, commit ${source?.commit ?? '?'}: ${machine.cpu}, ` +
    `${machine.cores} cores, Node ${machine.node}. Absolute times depend on the machine; compare the ratios.`
  const height = y + 24
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    text(10, 24, title, 'font-weight="bold" font-size="16"'),
    ...parts,
    text(10, y + 8, footer, 'font-size="11" fill="#555"'),
    '</svg>',
    '',
  ].join('\n')
}

interface Mem {
  peakRssMiB: number
  maxLocalBytes: number
  endHeapMiB: number
}
