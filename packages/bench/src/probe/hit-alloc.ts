// The bytes a Redis hit or a miss allocates (collected or not), by V8's sampling heap profiler, and the functions that
// allocate more than the reference does: this checkout's build, and another's beside it when `BASE` names its
// dist/index.js (see miss-ab.ts). Every allocation of the process counts, the client's and the GET's included; the
// reference is a bare getBuffer + unpack of the same row for a hit (`redis-hit`, `redis-list`), the same query through
// uncached Prisma for a miss (`local`, `redis`, `two`: new arguments each call). Each function is named as V8 names
// it: an inlined callee's allocations count as its caller's.
//
//   [BASE=…/dist/index.js] npx tsx src/probe/hit-alloc.ts [redis-hit|redis-list|local|redis|two] [calls]
import { Session } from 'node:inspector/promises'
import { Redis } from 'ioredis'
import { Packr } from 'msgpackr'
import { cache } from 'prisma-strata'
import { withCleanup } from '../scenarios/cleanup.ts'
import { type Cached, type Mode, missScene, type PostReads } from './miss-scene.ts'

const mode = (process.argv[2] ?? 'redis-hit') as Mode
const calls = Number(process.argv[3] ?? 20_000)
interface ProfileNode {
  callFrame: { functionName: string; url: string }
  selfSize: number
  children: ProfileNode[]
}

const misses = mode === 'local' || mode === 'redis' || mode === 'two'

/** Bytes allocated per call of `call` (after a warm-up), in all and by function. */
async function allocated(session: Session, call: () => Promise<unknown>): Promise<[number, Map<string, number>]> {
  for (let i = 0; i < 3000; i++) await call()
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 64,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as never)
  for (let i = 0; i < calls; i++) await call()
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } }
  const by = new Map<string, number>()
  let total = 0
  const walk = (node: ProfileNode) => {
    const name = `${node.callFrame.functionName || '(anonymous)'} (${node.callFrame.url.split('/').slice(-2).join('/')})`
    by.set(name, (by.get(name) ?? 0) + node.selfSize)
    total += node.selfSize
    for (const child of node.children) walk(child)
  }
  walk(profile.head)
  for (const [name, bytes] of by) by.set(name, bytes / calls)
  return [total / calls, by]
}

/** The functions that allocate the most more per call than they do in `reference`. */
function grown(by: Map<string, number>, reference: Map<string, number>, count: number): string[] {
  const names = new Set([...by.keys(), ...reference.keys()])
  return [...names]
    .map((name) => [name, (by.get(name) ?? 0) - (reference.get(name) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => `${Math.round(bytes)} B ${name}`)
}

await withCleanup(async (defer) => {
  const { plain, read, cached } = await missScene(mode, defer)
  const open = async (make: typeof cache, prefix: string) => {
    const extended = await cached(make, prefix)
    // Filled, and the fill landed: reads that follow at once would share the miss's answer until it has.
    await read(extended)
    await new Promise((resolve) => setTimeout(resolve, 200))
    return extended
  }
  const builds: Array<[string, Cached]> = [['this build', await open(cache, 'alloc-this')]]
  if (process.env.BASE) {
    const other = (await import(process.env.BASE)) as { cache: typeof cache }
    builds.push(['BASE build', await open(other.cache, 'alloc-base')])
  }
  const session = new Session()
  session.connect()
  defer(() => session.disconnect())
  await session.post('HeapProfiler.enable')
  let reference: [number, Map<string, number>]
  let referenceName: string
  if (misses) {
    reference = await allocated(session, () => read(plain as unknown as PostReads))
    referenceName = 'the query through uncached Prisma'
  } else {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
    defer(() => redis.disconnect())
    const packr = new Packr({ moreTypes: true, int64AsType: 'bigint', useRecords: true })
    const rawKey = `alloc-raw-${process.pid}`
    await redis.set(rawKey, packr.pack(await read(plain as unknown as PostReads)), 'PX', 600_000)
    reference = await allocated(session, async () => packr.unpack((await redis.getBuffer(rawKey)) as Buffer))
    referenceName = 'a bare GET + unpack'
  }
  const [bare, bareBy] = reference
  for (const [name, extended] of builds) {
    const counted = () => (misses ? extended.$cache.stats().misses : extended.$cache.stats().redisHits)
    const before = counted()
    const [bytes, by] = await allocated(session, () => read(extended))
    if (counted() - before < calls + 3000)
      throw new Error(`${name}: not every call was a ${misses ? 'miss' : 'Redis hit'}`)
    console.log(
      `${mode} ${name}: ${Math.round(bytes)} B per call (${Math.round(bytes - bare)} B more than ${referenceName})`,
    )
    for (const line of grown(by, bareBy, misses ? 24 : 6)) console.log(`  ${line}`)
  }
  console.log(`${referenceName}: ${Math.round(bare)} B per call`)
})
