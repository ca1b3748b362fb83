// Where a Redis-only hit's time goes: each stage of it timed on its own, next to the bare `getBuffer` + unpack it
// is compared with. Round-trip stages run interleaved round by round (they share the machine's noise) and are
// reported as medians and as ratios to the bare GET + unpack, paired round by round; the CPU-only stages (frame
// decoding, copying, the query text) are timed over many iterations in a loop. Also lists the Redis commands one
// hit sends. Reads the source of prisma-strata (not its build) for the stages, so a change shows without a build;
// the whole hit is the built extension, as in the hit-path scenario.
//
//   pnpm --filter bench run stages [-- --rounds 30 --iterations 400]

import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { Packr } from 'msgpackr'
import { copyResult } from '../../prisma-strata/src/read/copy-result.ts'
import { queryText } from '../../prisma-strata/src/read/read-call.ts'
import { decodeEntry, decodeValue } from '../../prisma-strata/src/store/codec.ts'
import { hash } from '../../prisma-strata/src/store/keys.ts'
import { RedisTier } from '../../prisma-strata/src/store/redis-tier.ts'
import { scanValue } from '../../prisma-strata/src/store/value-scan.ts'
import { type Contender, setup } from './contenders.ts'
import { type Call, pairedRatio, Samples, timed, untimed } from './measure.ts'
import { markdownTable, us } from './report.ts'

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    rounds: { type: 'string', default: '30' },
    iterations: { type: 'string', default: '400' },
    loops: { type: 'string', default: '200000' },
    redis: { type: 'string' },
  },
})
const rounds = Number(values.rounds)
const iterations = Number(values.iterations)
const loops = Number(values.loops)
const redisUrl = values.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Mean ns per call of a synchronous stage, over `loops` calls after as many untimed ones. */
function cpu(run: () => unknown): number {
  let sink: unknown
  for (let i = 0; i < loops; i++) sink = run()
  const t0 = performance.now()
  for (let i = 0; i < loops; i++) sink = run()
  const ns = ((performance.now() - t0) * 1e6) / loops
  if (sink === Symbol.for('never')) console.log(sink)
  return ns
}

async function main(): Promise<void> {
  const bench = await setup({ redisUrl, postgresUrl: undefined })
  const own = new Redis(redisUrl, { lazyConnect: true })
  await own.connect()
  try {
    const byKey = new Map(bench.contenders.map((c) => [c.key, c]))
    const strata = byKey.get('strata.redis') as Contender
    const reference = byKey.get('redis.get') as Contender
    await untimed(strata.call, 1000) // the first call fills the entry
    await untimed(reference.call, 1000)

    const prefix = String(bench.info.redisPrefix)
    const [entryKey] = (await own.keys(`${prefix}-r:e:*`)) as [string]
    const rawKey = `${prefix}:raw`
    const frame = (await own.getBuffer(entryKey)) as Buffer
    const raw = (await own.getBuffer(rawKey)) as Buffer
    const packr = new Packr({ moreTypes: true, int64AsType: 'bigint', useRecords: true })
    const entry = decodeEntry(frame)
    const master = decodeValue(entry.value)
    const tier = new RedisTier(own as never, 1000, () => {})
    console.log(
      `entry frame ${frame.length} bytes (query text ${Buffer.byteLength(entry.query)}, value ${entry.value.length}); ` +
        `bare value ${raw.length} bytes`,
    )

    // The commands one hit sends, seen by a MONITOR connection (only this run's keys).
    const monitor = await own.monitor()
    const seen: string[] = []
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((a) => a.includes(`${prefix}-r`))) seen.push(String(args[0]).toUpperCase())
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    await untimed(strata.call, 100)
    await new Promise((resolve) => setTimeout(resolve, 200))
    monitor.disconnect()
    const counts = new Map<string, number>()
    for (const c of seen) counts.set(c, (counts.get(c) ?? 0) + 1)
    console.log(`commands of 100 hits: ${[...counts].map(([c, n]) => `${c} ×${n}`).join(', ') || 'none seen'}`)

    const stages: [string, Call][] = [
      ['bare getBuffer + unpack (the reference)', reference.call],
      ['Strata Redis hit (built extension)', strata.call],
      ['getBuffer + unpack in a model-component method', (byKey.get('redis.get.model') as Contender).call],
      ['getBuffer of the bare value', () => own.getBuffer(rawKey)],
      ['getBuffer of the entry frame', () => own.getBuffer(entryKey)],
      ['RedisTier.get of the entry frame (timeout, breaker)', () => tier.get(entryKey)],
      [
        'getBuffer + decodeEntry + decodeValue + copyResult',
        async () => {
          const f = (await own.getBuffer(entryKey)) as Buffer
          return copyResult(decodeValue(decodeEntry(f).value))
        },
      ],
    ]
    for (const [, call] of stages) await untimed(call, 500)
    const samples = stages.map(() => new Samples(rounds * iterations))
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < stages.length; i++) {
        const at = (i + round) % stages.length
        await timed((stages[at] as [string, Call])[1], iterations, samples[at] as Samples)
      }
      process.stderr.write(`round ${round + 1}/${rounds}\r`)
    }
    process.stderr.write('\n')
    const ref = samples[0] as Samples
    console.log(
      markdownTable(
        ['round-trip stage', 'median µs', '÷ bare GET + unpack (paired)'],
        stages.map(([name], i) => {
          const s = samples[i] as Samples
          return [name, us(s.summary().median), `${pairedRatio(s, ref).toFixed(3)}×`]
        }),
      ),
    )

    const call = {
      model: 'User',
      operation: 'findUnique',
      args: { where: { id: 1 } },
      query: undefined,
      partition: undefined,
    }
    const text = queryText(call)
    const cpuStages: [string, () => unknown][] = [
      ['packr.unpack of the bare value (the reference decode)', () => packr.unpack(raw)],
      ['decodeEntry (the frame head)', () => decodeEntry(frame)],
      ['scanValue of the value bytes', () => scanValue(entry.value)],
      ['decodeValue of the value bytes (scan + unpack)', () => decodeValue(entry.value)],
      ['copyResult of the decoded row', () => copyResult(master)],
      ['queryText of findUnique({ where: { id } })', () => queryText(call)],
      ['hash of the query text (the entry key)', () => hash(text)],
    ]
    console.log()
    console.log(
      markdownTable(
        ['CPU stage', 'ns per call'],
        cpuStages.map(([name, run]) => [name, cpu(run).toFixed(0)]),
      ),
    )
  } finally {
    own.disconnect()
    await bench.close()
  }
}

await main()
