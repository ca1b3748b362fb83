// Where CPU time costs a Redis read on this machine: the same GET with a few µs of busy work before it is sent,
// right after it is sent (while Redis answers), or after its reply; one connection, the contenders interleaved
// round by round, medians of per-round means. Work before the send adds to every read; work after it is hidden
// by the round trip (here it even shortens it: a busy process is not put to sleep and woken for the reply).
//
//   npx tsx src/probe/send-overlap.ts [rounds] [calls]
import { Redis } from 'ioredis'

const rounds = Number(process.argv[2] ?? 20)
const calls = Number(process.argv[3] ?? 500)
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
const key = `send-overlap-${process.pid}`
await redis.set(key, Buffer.alloc(300, 1))

/** Busy for `us` µs. */
function work(us: number): void {
  const until = performance.now() + us / 1000
  while (performance.now() < until) {
    // spin
  }
}

const get = () => redis.getBuffer(key)
const contenders: Array<[string, () => Promise<unknown>]> = [['GET alone', get]]
for (const us of [5, 15]) {
  contenders.push([
    `${us} µs before the send`,
    () => {
      work(us)
      return get()
    },
  ])
  contenders.push([
    `${us} µs after the send`,
    () => {
      const reply = get()
      work(us)
      return reply
    },
  ])
  contenders.push([
    `${us} µs after the reply`,
    async () => {
      const reply = await get()
      work(us)
      return reply
    },
  ])
}
for (const [, call] of contenders) for (let i = 0; i < 2000; i++) await call()
const means = new Map<string, number[]>(contenders.map(([name]) => [name, []]))
for (let round = 0; round < rounds; round++) {
  for (const [name, call] of contenders) {
    const t0 = performance.now()
    for (let i = 0; i < calls; i++) await call()
    means.get(name)?.push(((performance.now() - t0) * 1000) / calls)
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] as number
const alone = median(means.get('GET alone') as number[])
for (const [name, values] of means) {
  const m = median(values)
  console.log(
    `${name.padEnd(22)} ${m.toFixed(1).padStart(6)} µs  ${(m - alone >= 0 ? '+' : '') + (m - alone).toFixed(1)} µs`,
  )
}
await redis.del(key)
redis.disconnect()
