// The CPU a Strata miss adds to the query it sends, without the database: the query is answered at once with a
// row as Prisma returns it, so what is timed is Strata's own work (query text, dependencies, snapshot, lookup,
// store, answer) and, with `--redis`, its Redis round trip and fill. Misses in sequence (unique arguments each
// call), as the miss benchmark makes them. Reads the source of prisma-strata (not its build), so a change shows
// without a build.
//
//   npx tsx src/probe/miss-cpu.ts [local|redis|two-tier|redis-hit] [calls]
// `redis-hit`: the same read every call on a Redis-only engine (a Redis hit), next to a bare getBuffer + unpack.
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import { Packr } from 'msgpackr'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { Engine, type PrismaInternals } from '../../../prisma-strata/src/engine.ts'
import { resolveOptions } from '../../../prisma-strata/src/options.ts'
import { cachedRead } from '../../../prisma-strata/src/read/query-entry.ts'

const mode = process.argv[2] ?? 'local'
const calls = Number(process.argv[3] ?? 20000)
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: 'postgresql://unused@127.0.0.1:1/x' }) })
const redis = mode === 'local' ? undefined : new Redis(url)
const hit = mode === 'redis-hit'
const prefix = `miss-cpu-${process.pid}`
const engine = new Engine(
  resolveOptions({
    ttl: 600,
    prefix,
    ...(redis ? { redis } : {}),
    ...(mode === 'redis' || hit ? { local: false } : {}),
  }),
  client as unknown as PrismaInternals,
)
await engine.whenReady(5000)
const policy = engine.policies.of('Post')
if (policy === false) throw new Error('Post is not cached')
const row = { id: 1, title: 'hot', published: true, views: 0, rating: null, authorId: null }
let n = 0
const read = () =>
  cachedRead(engine, {
    model: 'Post',
    operation: 'findFirst',
    args: { where: { id: 1, views: { lt: 1_000_000_000 + (hit ? 0 : n++) } } },
    query: undefined,
    partition: undefined,
    policy,
    execute: () => Promise.resolve({ ...row }),
  })
const packr = new Packr({ moreTypes: true, int64AsType: 'bigint', useRecords: true })
const rawKey = `${prefix}:raw`
if (redis) await redis.set(rawKey, packr.pack(row), 'PX', 600_000)
const bare = async () => packr.unpack((await redis?.getBuffer(rawKey)) as Buffer)
const contenders: Array<[string, () => Promise<unknown>]> = hit
  ? [
      [mode, read],
      ['bare getBuffer + unpack', bare],
    ]
  : [[mode, read]]
for (const [, call] of contenders) for (let i = 0; i < 2000; i++) await call()
for (let rep = 0; rep < 3; rep++) {
  for (const [name, call] of contenders) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < calls; i++) await call()
    const wall = ((performance.now() - t0) * 1000) / calls
    const c = process.cpuUsage(c0)
    console.log(`${name}: ${wall.toFixed(1)} µs wall, ${((c.user + c.system) / calls).toFixed(1)} µs CPU per call`)
  }
}
await engine.close()
redis?.disconnect()
