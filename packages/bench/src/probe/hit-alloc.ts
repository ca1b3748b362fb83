// The bytes a Redis hit allocates (collected or not), by V8's sampling heap profiler, and the functions that allocate
// them: this checkout's build, and another's beside it when `BASE` names its dist/index.js (see miss-ab.ts). Every
// allocation of the process counts, the client's and the GET's included; what Strata adds is the difference with a
// bare getBuffer + unpack of the same row, printed last.
//
//   [BASE=…/dist/index.js] npx tsx src/probe/hit-alloc.ts [redis-hit|redis-list] [calls]
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

/** Bytes allocated per call of `call` (after a warm-up), and the five functions that allocate the most. */
async function allocated(session: Session, call: () => Promise<unknown>): Promise<[number, string[]]> {
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
  const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 5)
  return [total / calls, top.map(([name, bytes]) => `${Math.round(bytes / calls)} B ${name}`)]
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
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  defer(() => redis.disconnect())
  const packr = new Packr({ moreTypes: true, int64AsType: 'bigint', useRecords: true })
  const rawKey = `alloc-raw-${process.pid}`
  await redis.set(rawKey, packr.pack(await read(plain as unknown as PostReads)), 'PX', 600_000)
  const session = new Session()
  session.connect()
  defer(() => session.disconnect())
  await session.post('HeapProfiler.enable')
  const [bare] = await allocated(session, async () => packr.unpack((await redis.getBuffer(rawKey)) as Buffer))
  for (const [name, extended] of builds) {
    const before = extended.$cache.stats().redisHits
    const [bytes, top] = await allocated(session, () => read(extended))
    if (extended.$cache.stats().redisHits - before < calls + 3000)
      throw new Error(`${name}: not every call was a Redis hit`)
    console.log(`${mode} ${name}: ${Math.round(bytes)} B per call (${Math.round(bytes - bare)} B more than a bare GET)`)
    for (const line of top) console.log(`  ${line}`)
  }
  console.log(`bare getBuffer + unpack: ${Math.round(bare)} B per call`)
})
