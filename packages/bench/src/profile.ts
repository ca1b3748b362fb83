// CPU profile of one contender's hit path: warms it up, samples the V8 profiler while it serves many sequential
// calls, writes the .cpuprofile (open it in Chrome DevTools or speedscope) and prints where the time goes.
//
//   pnpm --filter bench profile -- --target strata.local [--calls 300000] [--top 25]

import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { setup } from './contenders.ts'
import { untimed } from './measure.ts'

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const root = join(benchDir, '..', '..')

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    target: { type: 'string', default: 'strata.local' },
    calls: { type: 'string' },
    top: { type: 'string', default: '25' },
    interval: { type: 'string', default: '50' },
    redis: { type: 'string' },
    out: { type: 'string' },
  },
})

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  hitCount?: number
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  startTime: number
  endTime: number
}

/** `file:///…/node_modules/.pnpm/msgpackr@1.2.3/node_modules/msgpackr/unpack.js` → `msgpackr/unpack.js`. */
function shortUrl(url: string): string {
  if (!url) return ''
  const path = url.replace(/^file:\/\//, '')
  const nm = path.lastIndexOf('/node_modules/')
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length)
  return path.startsWith(root) ? relative(root, path) : path
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame
  const where = shortUrl(url)
  return `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`
}

/** The area a frame belongs to, for the coarse split. */
function area(node: ProfileNode): string {
  const { functionName, url } = node.callFrame
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)'
  const short = shortUrl(url)
  if (short.startsWith('prisma-strata/') || short.startsWith('packages/prisma-strata/')) return 'prisma-strata'
  if (short.startsWith('packages/bench/')) return 'bench harness'
  if (short.startsWith('@prisma/client/') || short.startsWith('generated/')) return '@prisma/client (extension layer)'
  if (url.startsWith('node:')) return 'node internals'
  return short
    .split('/')
    .slice(0, short.startsWith('@') ? 2 : 1)
    .join('/')
}

function summarize(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const total = profile.samples.length
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const areas = new Map<string, number>()
  for (const id of profile.samples) {
    const leaf = byId.get(id) as ProfileNode
    const name = frameName(leaf)
    self.set(name, (self.get(name) ?? 0) + 1)
    areas.set(area(leaf), (areas.get(area(leaf)) ?? 0) + 1)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = frameName(byId.get(at) as ProfileNode)
      if (seen.has(frame)) continue
      seen.add(frame)
      inclusive.set(frame, (inclusive.get(frame) ?? 0) + 1)
    }
  }
  const pct = (n: number) => `${((100 * n) / total).toFixed(1).padStart(5)}%`
  const list = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, count]) => `  ${pct(count)}  ${name}`)
      .join('\n')
  const skip = /^\((root|program|idle)\)|^main |^timed |^untimed /
  const inclusiveTop = new Map([...inclusive].filter(([name]) => !skip.test(name)))
  return [
    `${total} samples`,
    'self time by area:',
    list(areas, 12),
    `self time, top ${top} functions:`,
    list(self, top),
    `inclusive time (function and what it calls), top ${top}:`,
    list(inclusiveTop, top),
  ].join('\n')
}

async function main(): Promise<void> {
  const target = values.target as string
  const bench = await setup({
    redisUrl: values.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    postgresUrl: undefined,
  })
  try {
    const contender = bench.contenders.find((c) => c.key === target)
    if (!contender) {
      throw new Error(`no contender ${target}; one of: ${bench.contenders.map((c) => c.key).join(', ')}`)
    }
    const fast = contender.role === 'strata' && target !== 'strata.redis'
    const calls = Number(values.calls ?? (fast || target.startsWith('floor') ? 300_000 : 20_000))
    await untimed(contender.call, Math.min(20_000, calls))
    const session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: Number(values.interval) })
    await session.post('Profiler.start')
    const t0 = performance.now()
    await untimed(contender.call, calls)
    const elapsed = performance.now() - t0
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile }
    session.disconnect()
    const out = values.out ?? join(benchDir, 'results', `${target}.cpuprofile`)
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, JSON.stringify(profile))
    console.log(
      `${target}: ${calls} calls, ${((elapsed * 1000) / calls).toFixed(2)} µs per call while profiled ` +
        `(sampling every ${values.interval} µs slows it); profile: ${relative(process.cwd(), out)}`,
    )
    console.log(summarize(profile, Number(values.top)))
  } finally {
    await bench.close()
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
