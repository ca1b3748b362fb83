// Two builds of prisma-strata side by side in one process: a miss (or a Redis hit) of this checkout's build against
// the same read of another build (`BASE`, the path of its dist/index.js), with uncached Prisma, interleaved round by
// round; ratios are medians of per-round ratios. To build another commit beside this checkout:
//
//   git worktree add /tmp/strata-base <commit> && (cd /tmp/strata-base && pnpm install && pnpm build)
//   BASE=/tmp/strata-base/packages/prisma-strata/dist/index.js npx tsx src/probe/miss-ab.ts [two|redis|local|redis-hit|redis-list] [calls] [rounds]
//
// `redis-hit` and `redis-list`: a Redis-only hit of a point read, or of the comparison's list read.
// PostgreSQL (DATABASE_URL), or SQLite with DB=sqlite; Redis at REDIS_URL.
import { cache } from 'prisma-strata'
import { withCleanup } from '../scenarios/cleanup.ts'
import { type Mode, missScene, type PostReads } from './miss-scene.ts'

const base = process.env.BASE
if (!base) throw new Error('BASE: the path of the other build (…/packages/prisma-strata/dist/index.js); see the header')
const mode = (process.argv[2] ?? 'two') as Mode
const calls = Number(process.argv[3] ?? 1000)
const rounds = Number(process.argv[4] ?? 16)

await withCleanup(async (defer) => {
  const other = (await import(base)) as { cache: typeof cache }
  const { plain, read, cached } = await missScene(mode, defer)
  const before = await cached(other.cache, 'ab-base')
  const now = await cached(cache, 'ab-this')
  const contenders: Array<[string, () => Promise<unknown>]> = [
    ['prisma', () => read(plain as unknown as PostReads)],
    ['base', () => read(before)],
    ['this', () => read(now)],
  ]
  for (const [, call] of contenders) for (let i = 0; i < 1000; i++) await call()
  const wall = new Map<string, number[]>(contenders.map(([name]) => [name, []]))
  const cpu = new Map<string, number[]>(contenders.map(([name]) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const [name, call] = contenders[(k + round) % contenders.length] as [string, () => Promise<unknown>]
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < calls; i++) await call()
      const used = process.cpuUsage(cpu0)
      wall.get(name)?.push(((performance.now() - t0) * 1000) / calls)
      cpu.get(name)?.push((used.user + used.system) / calls)
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
  const ratio = (a: string, b: string) => {
    const of = wall.get(b) as number[]
    return median((wall.get(a) as number[]).map((x, i) => x / (of[i] as number)))
  }
  for (const [name] of contenders) {
    console.log(
      `${mode} ${name.padEnd(6)} median ${median(wall.get(name) as number[]).toFixed(1)} µs, ` +
        `CPU ${median(cpu.get(name) as number[]).toFixed(1)} µs/call, ÷ Prisma ${ratio(name, 'prisma').toFixed(3)}, ` +
        `÷ base ${ratio(name, 'base').toFixed(3)}`,
    )
  }
})
