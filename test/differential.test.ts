// Seeded differential test: random sequences of writes (every form, nested, raw, transactions) and reads (every
// form, of tables and of the PostStats view) on a cached client, each read compared with the same read on an uncached
// client over the same database. Some reads and writes go through a second cached client with a global `omit` on the
// same prefix, compared with an uncached client with the same `omit`: an entry must never answer the other scope.
// Any difference is a cache bug (stale, wrong or mistyped answer). On a difference the test prints the seed, shrinks
// the sequence (delta debugging, each candidate replayed on a fresh database) and prints the minimal one as JSON.
//
//   STRATA_SEED=123            replay a seed (printed by every run); random otherwise
//   STRATA_STEPS=800           steps per matrix case (CI default: each run draws a new seed); the long run: STRATA_STEPS=20000
//   STRATA_CASE=postgres       only the matrix cases whose name contains this ("sqlite / local", "two-tier"...)
//   STRATA_REPLAY=file.json    run the steps saved in this file (a failure writes one) instead of generating
//   STRATA_SHRINK_MS=180000    time allowed to shrink a failing sequence
//   STRATA_DEBUG=1             log every write Prisma rejected (to tune the generator)
//
// The harness is tested too, without a database: the shrinker finds the minimal sequence that a deliberately wrong
// oracle fails on (and stops on its budget), and the generator really produces every write, transaction and read
// form. Helpers: test/support/differential/ (random, steps, generator, key-moves, schema-map, raw-sql, normalize,
// runner, omit-clients, shrinker).
import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { generate } from './support/differential/generator.ts'
import { capture, sameOutcome } from './support/differential/normalize.ts'
import { Rng, seedFromEnv } from './support/differential/random.ts'
import {
  caseOptions,
  type DifferentialCase,
  describeFailure,
  type Failure,
  failureSignature,
  type RunOptions,
  runFresh,
  runSteps,
  targetOf,
} from './support/differential/runner.ts'
import { shrink, simplifyRepeatedReads, simplifyStep } from './support/differential/shrinker.ts'
import type { ReadSpec, Step } from './support/differential/steps.ts'
import { type Case, caseName, matrix, setupCase } from './support/matrix.ts'

const seed = seedFromEnv()
const stepCount = Number(process.env.STRATA_STEPS ?? 800)
const shrinkBudgetMs = Number(process.env.STRATA_SHRINK_MS ?? 180_000)
const replayFile = process.env.STRATA_REPLAY
// Every matrix case with invalidation; two (both databases, both tiers) with every model write-through, configured
// through the generator's module.
const allCases: DifferentialCase[] = [
  ...matrix.map((c) => ({ ...c, strategy: 'invalidate' as const })),
  ...[matrix[1], matrix[2]].map((c) => ({ ...(c as Case), strategy: 'write-through' as const })),
]
const nameOf = (c: DifferentialCase) => `${caseName(c)}${c.strategy === 'write-through' ? ' / write-through' : ''}`
const cases = allCases.filter((c) => !process.env.STRATA_CASE || nameOf(c).includes(process.env.STRATA_CASE))

const log = (message: string) => process.stderr.write(`[differential] ${message}\n`)
const origin = replayFile ? `replay of ${replayFile}` : `seed ${seed}`

// STRATA_DEBUG=1 logs every write Prisma rejected (a generator producing many invalid writes tests little).
const runOptions: RunOptions = process.env.STRATA_DEBUG
  ? { onWriteError: (i, where, o) => log(`step ${i} ${where}: ${JSON.stringify(o)}`) }
  : {}

/** Each case runs its own sequence (more ground covered per run), derived from the one printed seed. */
const caseSeed = (c: DifferentialCase) => (seed + allCases.indexOf(c) * 0x9e3779b9) >>> 0

function stepsFor(c: DifferentialCase): Step[] {
  if (replayFile) return JSON.parse(readFileSync(replayFile, 'utf8')) as Step[]
  return generate(caseSeed(c), { provider: c.provider, steps: stepCount })
}

describe.skipIf(cases.length === 0)('differential: the cached client answers like the uncached one', () => {
  // Generous: a run takes seconds; a failure then spends up to STRATA_SHRINK_MS shrinking.
  const timeout = 60_000 + stepCount * 60 + shrinkBudgetMs

  for (const c of cases) {
    it(
      nameOf(c),
      async () => {
        const steps = stepsFor(c)
        const name = nameOf(c)
        const replay = replayFile ? `STRATA_REPLAY=${replayFile}` : `STRATA_SEED=${seed} STRATA_STEPS=${stepCount}`
        log(
          `${name}: ${origin}${replayFile ? '' : ` (case seed ${caseSeed(c)})`}, ${steps.length} steps (replay: ${replay} STRATA_CASE='${name}')`,
        )
        const started = Date.now()
        const setup = await setupCase(c, caseOptions(c))
        let result: Awaited<ReturnType<typeof runSteps>>
        let stats: ReturnType<typeof setup.prisma.$cache.stats>
        try {
          result = await runSteps(targetOf(c, setup), steps, runOptions)
          stats = setup.prisma.$cache.stats()
        } finally {
          await setup.close()
        }
        const { failure, stats: run } = result
        const seconds = ((Date.now() - started) / 1000).toFixed(1)
        log(
          `${name}: ${run.steps} steps in ${seconds} s, ${run.comparisons} comparisons; cache: ${stats.localHits} local hits, ` +
            `${stats.redisHits} Redis hits, ${stats.misses} misses, ${stats.bypasses} bypasses; ` +
            `${run.writes} writes, rejected by Prisma: ${JSON.stringify(run.writeErrors)}`,
        )
        if (failure) {
          await reportFailure(c, steps, failure)
          expect.fail(`cached ≠ uncached on ${name} (${origin}):\n${describeFailure(failure)}`)
        }
        expect(run.steps).toBe(steps.length)
        // The reads repeat: the cache must have answered some of them, or nothing was tested. The view's too: an
        // uncached view would compare equal whatever writes to Post did.
        if (!replayFile) {
          expect(stats.localHits + stats.redisHits).toBeGreaterThan(0)
          const view = stats.models.PostStats
          expect((view?.localHits ?? 0) + (view?.redisHits ?? 0)).toBeGreaterThan(0)
        }
      },
      timeout,
    )
  }
})

/** Prints the seed and the failure, shrinks the sequence on fresh databases, prints and saves the minimal one. */
async function reportFailure(c: DifferentialCase, steps: Step[], failure: Failure): Promise<void> {
  const name = nameOf(c)
  log(`MISMATCH on ${name}, ${origin}:\n${describeFailure(failure)}`)
  const prefix = steps.slice(0, failure.index + 1)
  const signature = failureSignature(failure)
  const fails = async (candidate: Step[]) => {
    const replayed = await runFresh(c, candidate)
    return replayed.failure !== undefined && failureSignature(replayed.failure) === signature
  }
  let minimal = prefix
  if (!(await fails(prefix))) {
    log(`the failing prefix (${prefix.length} steps) did not fail again on a fresh database: not shrunk`)
  } else {
    log(`shrinking ${prefix.length} steps (budget ${shrinkBudgetMs} ms)...`)
    const shrunk = await shrink(prefix, fails, {
      simplify: simplifyStep,
      simplifySequence: simplifyRepeatedReads,
      budgetMs: shrinkBudgetMs,
      log,
    })
    minimal = shrunk.steps
    const final = await runFresh(c, minimal)
    log(
      `minimal sequence: ${minimal.length} steps after ${shrunk.tests} replays${shrunk.complete ? '' : ' (budget ran out: not 1-minimal)'}` +
        (final.failure ? `; it fails with:\n${describeFailure(final.failure)}` : ''),
    )
  }
  const file = join(tmpdir(), `strata-differential-${replayFile ? 'replay' : seed}-${name.replace(/\W+/g, '-')}.json`)
  writeFileSync(file, `${JSON.stringify(minimal, null, 2)}\n`)
  log(
    `minimal sequence (saved to ${file}; replay with STRATA_REPLAY=${file} STRATA_CASE='${name}'):\n${JSON.stringify(minimal, null, 2)}`,
  )
}

// ---------------------------------------------------------------------------------------------------------------
// The harness, without a database.

type KvStep = { op: 'set'; key: number; value: string } | { op: 'del'; key: number } | { op: 'get'; key: number }

/** A store that answers `get` correctly. */
function correctStore() {
  const data = new Map<number, string>()
  return {
    apply(step: KvStep): string | null | undefined {
      if (step.op === 'set') data.set(step.key, step.value)
      else if (step.op === 'del') data.delete(step.key)
      else return data.get(step.key) ?? null
      return undefined
    },
  }
}

/** A deliberately wrong oracle: it caches `get`s and forgets to drop the cached answer when key 3 is deleted. */
function wrongOracle() {
  const data = new Map<number, string>()
  const cached = new Map<number, string | null>()
  return {
    apply(step: KvStep): string | null | undefined {
      if (step.op === 'set') {
        data.set(step.key, step.value)
        cached.delete(step.key)
      } else if (step.op === 'del') {
        data.delete(step.key)
        if (step.key !== 3) cached.delete(step.key)
      } else {
        if (!cached.has(step.key)) cached.set(step.key, data.get(step.key) ?? null)
        return cached.get(step.key)
      }
      return undefined
    },
  }
}

async function kvFails(steps: KvStep[]): Promise<boolean> {
  const a = correctStore()
  const b = wrongOracle()
  for (const step of steps) {
    const left = await capture(async () => a.apply(step))
    const right = await capture(async () => b.apply(step))
    if (!sameOutcome(left, right)) return true
  }
  return false
}

describe('differential harness (no database)', () => {
  it('the shrinker reduces a long failing sequence to the minimal one of a deliberately wrong oracle', async () => {
    const r = new Rng(20240601)
    const ops = ['set', 'del', 'get', 'get'] as const
    let steps: KvStep[] = []
    // A long random sequence that fails (keys 1..5, so the bug hides among many irrelevant steps).
    for (let attempt = 0; attempt < 50; attempt++) {
      steps = Array.from({ length: 400 }, (): KvStep => {
        const op = r.pick(ops)
        const key = r.int(1, 5)
        return op === 'set' ? { op, key, value: `v${r.int(1, 9)}` } : { op, key }
      })
      if (await kvFails(steps)) break
    }
    expect(await kvFails(steps)).toBe(true)
    const result = await shrink(steps, kvFails)
    expect(result.complete).toBe(true)
    // The only way to see the bug: fill key 3, read it (the oracle caches it), delete it, read it again.
    expect(result.steps.map((s) => `${s.op} ${s.key}`)).toEqual(['set 3', 'get 3', 'del 3', 'get 3'])
    // 1-minimal: every single step is needed.
    for (let i = 0; i < result.steps.length; i++) {
      expect(await kvFails(result.steps.filter((_, j) => j !== i))).toBe(false)
    }
  })

  it('the shrinker stops when its budget runs out and still returns a failing sequence', async () => {
    const slow = async (steps: number[]) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return steps.includes(7) && steps.includes(42)
    }
    const result = await shrink(
      Array.from({ length: 200 }, (_, i) => i),
      slow,
      { budgetMs: 30 },
    )
    expect(result.complete).toBe(false)
    expect(await slow(result.steps)).toBe(true)
  })

  it('a read that fills the cache and the same read that hits it are simplified together', () => {
    const read: ReadSpec = { model: 'user', op: 'findMany', args: { select: { id: true, name: true }, take: 2 } }
    const other: ReadSpec = { model: 'post', op: 'count' }
    const steps: Step[] = [
      { kind: 'read', read },
      { kind: 'read', read: other },
      { kind: 'write', write: { model: 'user', op: 'deleteMany', args: {} } },
      { kind: 'read', read },
    ]
    const variants = simplifyRepeatedReads(steps)
    expect(variants.length).toBeGreaterThan(0)
    for (const variant of variants) {
      const [first, second, , last] = variant as [Step, Step, Step, Step]
      expect(first).toEqual(last)
      expect(first).not.toEqual(steps[0])
      expect(second).toEqual(steps[1]) // read once: left alone
    }
  })

  it('the generator is deterministic and produces every write, transaction and read form', () => {
    const a = generate(7, { provider: 'postgres', steps: 3000 })
    expect(generate(7, { provider: 'postgres', steps: 3000 })).toEqual(a)
    expect(generate(8, { provider: 'postgres', steps: 3000 })).not.toEqual(a)
    const text = JSON.stringify(a)
    const writeOps = new Set<string>()
    const readOps = new Set<string>()
    const kinds = new Set<string>()
    const visit = (step: Step) => {
      kinds.add(step.kind)
      if (step.kind === 'write') writeOps.add(step.write.op)
      if (step.kind === 'read') readOps.add(step.read.op)
      if (step.kind === 'itx') kinds.add(step.rollback ? 'itx-rollback' : 'itx-commit')
      if (step.kind === 'instance' && step.write) kinds.add('instance-write')
      if (step.kind === 'omit' && step.write) kinds.add('omit-write')
    }
    a.forEach(visit)
    expect([...writeOps].sort()).toEqual(
      [
        'create',
        'createMany',
        'createManyAndReturn',
        'delete',
        'deleteMany',
        'update',
        'updateMany',
        'updateManyAndReturn',
        'upsert',
      ].sort(),
    )
    expect([...readOps].sort()).toEqual(
      [
        'aggregate',
        'count',
        'findFirst',
        'findFirstOrThrow',
        'findMany',
        'findUnique',
        'findUniqueOrThrow',
        'groupBy',
      ].sort(),
    )
    expect([...kinds].sort()).toEqual(
      [
        'batch',
        'instance',
        'instance-write',
        'invalidate',
        'itx',
        'itx-commit',
        'itx-rollback',
        'lazy',
        'omit',
        'omit-write',
        'parallel',
        'raw',
        'read',
        'reads',
        'write',
      ].sort(),
    )
    // Nested writes of every kind, compound keys, fluent reads, relation filters, every raw form.
    for (const needle of [
      '"create":{',
      '"createMany":{',
      '"connectOrCreate":',
      '"upsert":',
      '"update":',
      '"updateMany":',
      '"delete":',
      '"deleteMany":',
      '"connect":',
      '"disconnect":',
      '"set":',
      '"nested":',
      '"outer":',
      '"userId_teamId":',
      '"authorId_title":',
      '"fluent":',
      '"some":',
      '"every":',
      '"none":',
      '"is":',
      '"isNot":',
      '"_count":',
      '"cursor":',
      '"distinct":',
      '"form":"unsafe"',
      '"form":"tagged"',
      '"form":"query"',
      '"$decimal":',
      '"$bigint":',
      '"$bytes":',
      '"$date":',
      '"$null":',
      '"cache":{"ttl"',
      '"cache":false',
      '"swr":',
      // Keys moved by relation operations, and raw SQL that hides its writes from a naive reading.
      '"box":{"connect":',
      '"crates":{"connect":',
      '"person":{"connect":',
      '"passport":{"connect":',
      '"crate":{"update":{"box":{"connect":',
      '"statement":"renameItemAfterComment"',
      '"statement":"relabelDollarQuoted"',
      '"statement":"stampEscaped"',
      '"statement":"moveCrateAndDropStamp"',
      '"statement":"truncateCascade"',
      // The view, in every read form.
      '"model":"postStats","op":"findMany"',
      '"model":"postStats","op":"findUnique"',
      '"model":"postStats","op":"findFirstOrThrow"',
      '"model":"postStats","op":"count"',
      '"model":"postStats","op":"aggregate"',
      '"model":"postStats","op":"groupBy"',
    ]) {
      expect(text, needle).toContain(needle)
    }
  })
})
