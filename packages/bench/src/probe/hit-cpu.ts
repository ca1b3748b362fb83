// The CPU of a Redis hit with the round trip taken out: the Strata client's Redis answers GET from memory at once
// (a resolved promise), so a Redis-only hit times Strata's own work (query text, dependencies and versions, the
// flight, the frame head, the value's scan and decode), next to a bare msgpackr unpack of the same row answered
// the same way. Then the decoding of a list with relations (10 posts, 30 comments, 20 tags) on its own: Strata's
// scan and decode (records, as for every value that lists rows) against msgpackr's unpack of its own records (what
// the round-trip floor of the comparison uses), and the copy a local hit makes. Last, a hit's CPU split at the GET's
// send: before it, and from the reply on. Uses the build of prisma-strata (`pnpm build` after a change).
//
//   DB=<a PostgreSQL URL with a post> npx tsx src/probe/hit-cpu.ts [calls]
//   (`npx tsx src/probe/miss-count.ts setup` prints such a URL)
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import { Packr } from 'msgpackr'
import { cache } from 'prisma-strata'
import { PrismaClient } from '../../../../generated/postgres/client/client.ts'
import { copyResult } from '../../../prisma-strata/src/read/copy-result.ts'
import { decodeValue, encodeValue } from '../../../prisma-strata/src/store/codec.ts'
import { listRead } from './miss-scene.ts'

const calls = Number(process.argv[2] ?? 50_000)
const url = process.env.DB
if (!url) throw new Error('DB: a PostgreSQL URL (npx tsx src/probe/miss-count.ts setup prints one)')
const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }), errorFormat: 'minimal' })
const real = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const stored = new Map<string, Buffer>()
/** When the last GET was sent: what splits a hit's CPU into the part before its send and the part after it. */
let sentAt = 0
// Entries go to Redis as usual and are also kept here; GET is answered from here.
const inMemory = new Proxy(real, {
  get(target, name) {
    if (name === 'getBuffer') {
      return (key: string) => {
        sentAt = performance.now()
        return Promise.resolve(stored.get(key) ?? null)
      }
    }
    if (name === 'set') {
      return (key: string, value: Buffer, ...rest: unknown[]) => {
        stored.set(key, Buffer.from(value))
        return (target.set as (...a: unknown[]) => Promise<unknown>)(key, value, ...rest)
      }
    }
    const value = (target as unknown as Record<string | symbol, unknown>)[name]
    return typeof value === 'function' ? value.bind(target) : value
  },
})
const strata = client.$extends(
  cache({ ttl: 600, prefix: `hit-cpu-${process.pid}`, redis: inMemory as never, local: false }),
)
await strata.$cache.whenReady(5000)
const post = (await client.post.findFirst({ orderBy: { id: 'asc' } })) as { id: number }
await strata.post.findUnique({ where: { id: post.id } })
await new Promise((resolve) => setTimeout(resolve, 100)) // the fill lands
const packr = new Packr()
const packed = packr.pack(await client.post.findUnique({ where: { id: post.id } }))

function time(name: string, run: () => unknown, n: number): void {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) run()
  console.log(`${name.padEnd(44)} ${(((performance.now() - t0) * 1000) / n).toFixed(2)} µs`)
}
async function timeAsync(name: string, run: () => PromiseLike<unknown>, n: number): Promise<void> {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await run()
  console.log(`${name.padEnd(44)} ${(((performance.now() - t0) * 1000) / n).toFixed(2)} µs`)
}

const listArgs = await listRead(client)
await strata.post.findMany(listArgs)
await new Promise((resolve) => setTimeout(resolve, 100))
const packedList = packr.pack(await client.post.findMany(listArgs))

const hit = () => strata.post.findUnique({ where: { id: post.id } })
const bare = async () => packr.unpack((await Promise.resolve(packed)) as Buffer)
const listHit = () => strata.post.findMany(listArgs)
const bareList = async () => packr.unpack((await Promise.resolve(packedList)) as Buffer)
for (let round = 0; round < 3; round++) {
  await timeAsync('Strata Redis-only hit, GET from memory', hit, calls)
  await timeAsync('bare unpack, GET from memory', bare, calls)
  await timeAsync('list: Strata Redis-only hit, GET from memory', listHit, calls / 10)
  await timeAsync('list: bare unpack, GET from memory', bareList, calls / 10)
}
// Before the send, a hit's CPU adds to its round trip in full; after it, it is hidden behind the round trip up to
// the reply (`src/probe/send-overlap.ts`); after the reply, it adds in full again.
for (const [name, run, n] of [
  ['Strata Redis-only hit', hit, calls],
  ['list: Strata Redis-only hit', listHit, calls / 10],
] as const) {
  let before = 0
  let after = 0
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await run()
    const t1 = performance.now()
    before += sentAt - t0
    after += t1 - sentAt
  }
  const us = (ms: number) => ((ms * 1000) / n).toFixed(2)
  console.log(`${name}: ${us(before)} µs before the GET is sent, ${us(after)} µs from its reply to the caller`)
}
// Three timed rounds and the split above, each of `calls` point hits and a tenth as many list hits.
const timedHits = 4 * (calls + Math.ceil(calls / 10))
if (strata.$cache.stats().redisHits < timedHits) throw new Error('the Strata calls were not all Redis hits')

const at = new Date()
const list = Array.from({ length: 10 }, (_, i) => ({
  id: i + 1,
  title: `Post ${i} of the list`,
  published: true,
  views: 0,
  rating: null,
  authorId: 1,
  createdAt: at,
  comments: [1, 2, 3].map((n) => ({ id: i * 3 + n, body: `Comment ${n}`, postId: i + 1, authorId: 1, createdAt: at })),
  tags: ['cache', 'prisma'].map((name, k) => ({ id: k + 1, name })),
}))
const listRecords = packr.pack(list)
const listBytes = encodeValue(list)
const decoded = decodeValue(listBytes)
for (const [name, run] of [
  ['list: msgpackr unpack with records', () => packr.unpack(listRecords)],
  ['list: Strata decodeValue (scan + unpack)', () => decodeValue(listBytes)],
  ['list: copyResult (a local hit)', () => copyResult(decoded)],
] as const) {
  time(name, run, calls / 10) // warm-up
  time(name, run, calls / 5)
}
await strata.$cache.close()
real.disconnect()
await client.$disconnect()
