// Where a miss's CPU goes beyond the query's: the same `findFirst` with new arguments each call (every call a miss),
// first through uncached Prisma, then through Strata, each sampled by V8's profiler in this process; prints the
// self time per call of the functions whose time grew the most, native ones (socket writes, GC) included.
//
//   DATABASE_URL=… npx tsx src/probe/miss-profile.ts [redis|two] [calls]     (in packages/bench; miss-scene.ts)
import { Session } from 'node:inspector/promises'
import { cache } from 'prisma-strata'
import { withCleanup } from '../scenarios/cleanup.ts'
import { type Mode, missScene } from './miss-scene.ts'

const mode = (process.argv[2] ?? 'redis') as Mode
const calls = Number(process.argv[3] ?? 5000)
type Find = { post: { findFirst(args: unknown): Promise<unknown> } }
interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}

/** Self time in µs per function, from a profile. */
function selfTimes(profile: { nodes: Node[]; samples: number[]; timeDeltas: number[] }): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const out = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = (byId.get(id) as Node).callFrame
    const file = url.replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(/^.*\/packages\//, '')
    const name = `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`
    out.set(name, (out.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  return out
}

await withCleanup(async (defer) => {
  const { plain, client, args, options } = await missScene(mode, defer)
  const strata = client().$extends(cache(options('miss-profile')))
  defer(() => strata.$cache.close())
  await strata.$cache.whenReady(5000)
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 50 })
  // CPU is measured in a pass of its own: the sampler's cost grows with the time sampled.
  const profiled = async (on: Find) => {
    for (let i = 0; i < 2000; i++) await on.post.findFirst(args())
    const cpu = process.cpuUsage()
    for (let i = 0; i < calls; i++) await on.post.findFirst(args())
    const used = process.cpuUsage(cpu)
    await session.post('Profiler.start')
    for (let i = 0; i < calls; i++) await on.post.findFirst(args())
    const { profile } = (await session.post('Profiler.stop')) as { profile: never }
    return { self: selfTimes(profile), user: used.user / calls, system: used.system / calls }
  }
  const prisma = await profiled(plain as unknown as Find)
  const cached = await profiled(strata as unknown as Find)
  session.disconnect()
  const cpu = (r: typeof prisma) => `user ${r.user.toFixed(0)} µs, system ${r.system.toFixed(0)} µs per call`
  console.log(`${calls} misses each. Prisma, uncached: ${cpu(prisma)}; Strata ${mode}: ${cpu(cached)}`)
  console.log('self time per call, Strata − Prisma (µs), the 30 that grew most:')
  const names = new Set([...prisma.self.keys(), ...cached.self.keys()])
  const grown = [...names]
    .filter((name) => !name.startsWith('(idle)'))
    .map((k) => [k, ((cached.self.get(k) ?? 0) - (prisma.self.get(k) ?? 0)) / calls] as const)
  for (const [name, us] of grown.sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${us.toFixed(1).padStart(8)}  ${name}`)
  }
})
