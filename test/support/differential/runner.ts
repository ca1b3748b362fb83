// Runs a sequence of steps against a cached client and its oracle (an uncached client on the same database) and
// stops at the first answer that differs.
//
// - A read runs on both clients; the normalized answers (value, or error class + code) must be equal. What the
//   cached client returned is then spoiled (mutated everywhere): a later hit must not see the mutation.
// - A write (model write or raw SQL) runs once, through the cached client, so Strata sees it and must invalidate;
//   the generator surrounds writes with reads.
// - An interactive transaction runs first on the oracle, rolled back, recording what each item answered; then for
//   real on the cached client (committed, or rolled back by throwing). Inside, both runs must answer alike (reads
//   inside a transaction never come from the cache). Reads on the outer cached client while the transaction is open
//   (PostgreSQL and MySQL: SQLite shares one connection, so the outer client would see the uncommitted writes) are
//   compared with the oracle at once.
// - A batch `$transaction([...])` runs first on the oracle as an interactive transaction, item after item, rolled
//   back (a batch is exactly that: its items in order in one transaction, failing as a whole); then for real.
// - `parallel` reads run at once on the cached client (single flight, Prisma's findUnique batching).
// - An `instance` step starts a second cached client on the same Redis (two-tier) and compares reads from it: it
//   starts empty, so it answers from Redis what the first client filled. After its own write it must answer at
//   once; the first client, within the bus delay.
// - An `omit` step starts a second cached client with a global `omit` on the same prefix (omit-clients.ts) and
//   compares its reads with an uncached client with the same `omit`: two-tier, it answers from Redis what the main
//   client filled and fills what the main client reads next, so an entry answering the other scope shows.
import type { Redis } from 'ioredis'
import type { CacheOptions } from 'prisma-strata'
import { schema } from '../../../generated/sqlite/strata/index.js'
import type { Provider } from '../../../prisma/database.ts'
import { type CachedClient, type Case, type RawClient, type Setup, setupCase } from '../matrix.ts'
import {
  capture,
  errorSignature,
  firstDifference,
  type Normal,
  normalize,
  type Outcome,
  outcomeText,
} from './normalize.ts'
import { type OmitClients, omitClients } from './omit-clients.ts'
import { rawAnswer, rawCall, runRaw } from './raw-sql.ts'
import {
  type BatchItem,
  describeStep,
  type JsonObject,
  type RawSpec,
  type ReadSpec,
  revive,
  type Step,
  type TxItem,
  type WriteSpec,
} from './steps.ts'

export interface Target {
  provider: Provider
  /** Uncached: the oracle. */
  raw: RawClient
  /** The client under test. */
  prisma: CachedClient
  /** A further cached client sharing Redis (two-tier only), for `instance` steps. */
  instance?: () => Promise<CachedClient>
  /**
   * Two-tier: a Redis connection of the test's own and the invalidation channel. After another instance writes,
   * the runner waits until the bump was published before it asks the main client (whose bus hears it as fast).
   */
  bus?: { redis: Redis; channel: string }
  /** A further cached client with a global `omit`, and its oracle, for `omit` steps. */
  omitted: () => Promise<OmitClients>
}

export interface Failure {
  /** Index of the failing step in the sequence. */
  index: number
  step: Step
  kind: 'mismatch' | 'timeout' | 'error'
  /** Where in the step: `read`, `itx item 2`, `batch`, `instance read 1`, ... */
  where: string
  /** The read that differed, when the step has several. */
  read?: ReadSpec
  detail: string
  cached?: Outcome
  oracle?: Outcome
}

export interface RunStats {
  steps: number
  /** Comparisons made (reads on both clients, transaction items, batches). */
  comparisons: number
  /** Writes (model and raw) sent through the cached client, and how many of them Prisma rejected, by code. */
  writes: number
  writeErrors: Record<string, number>
  byKind: Record<string, number>
}

export interface RunOptions {
  /** A step that takes longer than this fails the run (a hung batch, a lost transaction). Default 15 s. */
  stepTimeoutMs?: number
  /** Called after each step (progress). */
  onStep?: (index: number, step: Step) => void
  /** Called with every write Prisma rejected (to tune the generator: most writes should succeed). */
  onWriteError?: (index: number, where: string, outcome: Outcome) => void
}

type Callable = (args?: unknown) => PrismaPromiseLike
interface PrismaPromiseLike extends PromiseLike<unknown> {
  [method: string]: unknown
}
type AnyClient = unknown

class Rollback extends Error {
  constructor() {
    super('rolled back on purpose')
    this.name = 'Rollback'
  }
}

class StepTimeout extends Error {}

/** How long the main client may stay stale after another instance's write (the bus delay). */
const busDelayMs = 3000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Counts the messages on the invalidation channel, to wait for one published by another instance. */
async function listen(bus: NonNullable<Target['bus']>) {
  const subscriber = bus.redis.duplicate()
  let count = 0
  subscriber.on('message', (channel: string) => {
    if (channel === bus.channel) count++
  })
  await subscriber.subscribe(bus.channel)
  return {
    get count() {
      return count
    },
    /** Resolves once more than `seen` messages arrived (or after the bus delay: the comparison will tell). */
    async after(seen: number) {
      const deadline = Date.now() + busDelayMs
      while (count <= seen && Date.now() < deadline) await sleep(2)
      await sleep(10) // the main client's subscriber reads the same publish on its own socket
    },
    close: () => subscriber.disconnect(),
  }
}

const transactionOptions = { maxWait: 10_000, timeout: 20_000 }

function delegate(client: AnyClient, model: string): Record<string, Callable> {
  const d = (client as Record<string, Record<string, Callable> | undefined>)[model]
  if (!d) throw new Error(`no model ${model} on this client`)
  return d
}

/**
 * `client[model][op](args)` and its fluent calls: Prisma's own promise (or Strata's lazy read), not awaited.
 * `cached`: the client is Strata's, so the read's `cache` argument goes along (the oracle would reject it).
 */
export function readCall(client: AnyClient, spec: ReadSpec, cached = false): PromiseLike<unknown> {
  const d = delegate(client, spec.model)
  const method = d[spec.op]
  if (!method) throw new Error(`no method ${spec.model}.${spec.op}`)
  const args = revive(spec.args) as Record<string, unknown> | undefined
  // Called on its delegate: extension methods read their model from `this`.
  let promise = method.call(d, cached && spec.cache !== undefined ? { ...args, cache: revive(spec.cache) } : args)
  for (const [field, args] of spec.fluent ?? []) {
    const next = promise[field] as Callable | undefined
    if (typeof next !== 'function') throw new Error(`no fluent relation ${field} after ${spec.model}.${spec.op}`)
    promise = args === undefined ? next.call(promise) : next.call(promise, revive(args))
  }
  return promise
}

/** A write: Prisma's own promise, not awaited (it may join a batch); its answer goes through `writeAnswer`. */
export function writeCall(client: AnyClient, spec: WriteSpec): PromiseLike<unknown> {
  const d = delegate(client, spec.model)
  const method = d[spec.op]
  if (!method) throw new Error(`no method ${spec.model}.${spec.op}`)
  return method.call(d, revive(spec.args as JsonObject))
}

/** `*ManyAndReturn` rows come in no defined order (the table's physical order on PostgreSQL): sort them. */
export function writeAnswer(spec: WriteSpec, value: unknown): unknown {
  if (!spec.op.endsWith('AndReturn') || !Array.isArray(value)) return value
  return value
    .map((row) => [JSON.stringify(normalize(row)), row] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, row]) => row)
}

function runWrite(client: AnyClient, spec: WriteSpec): PromiseLike<unknown> {
  return writeCall(client, spec).then((value) => writeAnswer(spec, value))
}

/** A batch item: Prisma's promise (it must stay one to join the batch); its answer goes through `itemAnswer`. */
function itemCall(client: AnyClient, provider: Provider, item: BatchItem, cached: boolean): PromiseLike<unknown> {
  if ('read' in item) return readCall(client, item.read, cached)
  if ('write' in item) return writeCall(client, item.write)
  return rawCall(client, provider, item.raw as RawSpec)
}

function itemAnswer(item: BatchItem, value: unknown): unknown {
  if ('raw' in item) return rawAnswer(item.raw as RawSpec, value)
  if ('write' in item) return writeAnswer(item.write as WriteSpec, value)
  return value
}

function withTimeout<T>(promise: PromiseLike<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepTimeout(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer))
}

/**
 * Mutates a result in place, everywhere it can (design invariant 8, docs/design.md: a caller may mutate what it got without
 * affecting the cache or other callers). Decimals are left alone: immutable by contract, Strata shares them.
 */
function spoil(value: unknown, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 8) return
  if (value instanceof Uint8Array) value.fill(0xee)
  else if (value instanceof Date) value.setTime(0)
  else if (Array.isArray(value)) {
    for (const item of value) spoil(item, depth + 1)
    value.reverse()
    value.push('spoiled')
  } else if (/^Decimal\d*$/.test(value.constructor?.name ?? '')) {
    // immutable
  } else {
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) {
      spoil(record[key], depth + 1)
      record[key] = typeof record[key] === 'object' && record[key] !== null ? record[key] : 'spoiled'
    }
    record.spoiled = true
  }
}

/** `capture`, then spoil what the cached client returned (after it was recorded). */
async function captureAndSpoil(call: () => PromiseLike<unknown>): Promise<Outcome> {
  let value: unknown
  const outcome = await capture(async () => {
    value = await call()
    return value
  })
  spoil(value)
  return outcome
}

function isPrismaError(outcome: Outcome): boolean {
  return outcome.ok || outcome.error.class.startsWith('PrismaClient')
}

export async function runSteps(
  target: Target,
  steps: readonly Step[],
  options: RunOptions = {},
): Promise<{
  failure?: Failure
  stats: RunStats
}> {
  const stats: RunStats = { steps: 0, comparisons: 0, writes: 0, writeErrors: {}, byKind: {} }
  const { raw, prisma, provider } = target
  let index = 0
  let failure: Failure | undefined

  const fail = (f: Omit<Failure, 'index' | 'step'>) => {
    failure ??= { index, step: steps[index] as Step, ...f }
  }

  const compare = (where: string, cached: Outcome, oracle: Outcome, read?: ReadSpec): boolean => {
    stats.comparisons++
    if (outcomeText(cached) === outcomeText(oracle)) return true
    const a = cached.ok ? cached.value : (cached as { error: Normal }).error
    const b = oracle.ok ? oracle.value : (oracle as { error: Normal }).error
    const detail = cached.ok !== oracle.ok ? 'one answered, the other threw' : (firstDifference(a, b) ?? 'differs')
    fail({ kind: 'mismatch', where, detail, cached, oracle, ...(read ? { read } : {}) })
    return false
  }

  /** A write through the cached client: counted, and Strata must never turn it into an error of its own. */
  const recordWrite = (where: string, outcome: Outcome): boolean => {
    stats.writes++
    if (!outcome.ok) {
      const key = outcome.error.code ?? outcome.error.class
      stats.writeErrors[key] = (stats.writeErrors[key] ?? 0) + 1
      options.onWriteError?.(index, where, outcome)
    }
    if (isPrismaError(outcome)) return true
    fail({ kind: 'error', where, detail: `the write threw ${JSON.stringify((outcome as { error: unknown }).error)}` })
    return false
  }

  const compareRead = async (where: string, client: AnyClient, spec: ReadSpec, uncached = raw): Promise<boolean> => {
    const cached = await captureAndSpoil(() => readCall(client, spec, true))
    const oracle = await capture(() => readCall(uncached, spec))
    return compare(where, cached, oracle, spec)
  }

  /** Another process's write reaches this one through the bus: equal within the bus delay, not at once. */
  const compareEventually = async (where: string, client: AnyClient, spec: ReadSpec): Promise<boolean> => {
    const deadline = Date.now() + busDelayMs
    for (;;) {
      const cached = await captureAndSpoil(() => readCall(client, spec, true))
      const oracle = await capture(() => readCall(raw, spec))
      if (outcomeText(cached) === outcomeText(oracle) || Date.now() > deadline) {
        return compare(`${where} (still different ${busDelayMs} ms after)`, cached, oracle, spec)
      }
      await sleep(20)
    }
  }

  const bus = target.bus ? await listen(target.bus) : undefined

  /**
   * An interactive transaction body on `client` (a transaction client), answers appended to `out`. `real` is false
   * for the oracle's run, which skips the reads on the outer client.
   */
  const runBody = async (client: AnyClient, body: TxItem[], out: Outcome[], real: boolean, path: string) => {
    for (const [i, item] of body.entries()) {
      if (failure) return
      if ('read' in item) out.push(await capture(() => readCall(client, item.read, real)))
      else if ('write' in item) out.push(await capture(() => runWrite(client, item.write)))
      else if ('raw' in item) out.push(await capture(() => runRaw(client, provider, item.raw)))
      else if ('outer' in item) {
        if (real) await compareRead(`${path}outer read (item ${i}) while the transaction is open`, prisma, item.outer)
      } else {
        const inner: Outcome[] = []
        const nested = (client as { $transaction(fn: (tx: unknown) => Promise<unknown>): Promise<unknown> })
          .$transaction
        out.push(
          await capture(() =>
            nested.call(client, async (tx: unknown) => {
              await runBody(tx, item.nested, inner, real, `${path}nested (item ${i}) `)
              if (item.rollback) throw new Rollback()
              return 'committed'
            }),
          ),
        )
        out.push(...inner)
      }
    }
  }

  const steppers: { [K in Step['kind']]: (step: Extract<Step, { kind: K }>) => Promise<void> } = {
    read: async (step) => {
      await compareRead('read', prisma, step.read)
    },
    reads: async (step) => {
      for (const [i, read] of step.reads.entries()) if (!(await compareRead(`read ${i}`, prisma, read))) return
    },
    write: async (step) => {
      recordWrite('write', await capture(() => writeCall(prisma, step.write)))
    },
    raw: async (step) => {
      recordWrite('raw', await capture(() => runRaw(prisma, provider, step.raw)))
    },
    itx: async (step) => {
      const expected: Outcome[] = []
      const oracleRun = await capture(() =>
        raw.$transaction(async (tx) => {
          await runBody(tx, step.body, expected, false, '')
          throw new Rollback()
        }, transactionOptions),
      )
      if (oracleRun.ok || oracleRun.error.class !== 'Rollback') {
        fail({
          kind: 'error',
          where: 'itx (oracle run)',
          detail: `the oracle transaction ended with ${outcomeText(oracleRun)}`,
        })
        return
      }
      const actual: Outcome[] = []
      const result = await capture(() =>
        prisma.$transaction(async (tx) => {
          await runBody(tx, step.body, actual, true, '')
          if (step.rollback) throw new Rollback()
          return 'committed'
        }, transactionOptions),
      )
      if (failure) return
      for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
        const cached = actual[i] ?? { ok: false, error: { class: 'missing', code: null } }
        const oracle = expected[i] ?? { ok: false, error: { class: 'missing', code: null } }
        if (!compare(`itx answer ${i}`, cached, oracle)) return
      }
      // Committed, rolled back on purpose, or refused by Prisma (PostgreSQL cannot commit a transaction in which a
      // statement failed): whatever it was, the reads that follow compare the cache with what the database holds.
      if (result.ok ? step.rollback : result.error.class !== 'Rollback' && !isPrismaError(result)) {
        fail({ kind: 'error', where: 'itx', detail: `the transaction ended with ${JSON.stringify(result)}` })
      } else if (!result.ok && result.error.class !== 'Rollback') {
        recordWrite('itx commit', result)
      }
    },
    batch: async (step) => {
      const results: Normal[] = []
      const oracleRun = await capture(() =>
        raw.$transaction(async (tx) => {
          for (const item of step.items) {
            results.push(normalize(itemAnswer(item, await itemCall(tx, provider, item, false))))
          }
          throw new Rollback()
        }, transactionOptions),
      )
      const oracle: Outcome =
        !oracleRun.ok && oracleRun.error.class === 'Rollback' ? { ok: true, value: results } : oracleRun
      const cached = await capture(async () => {
        const items = step.items.map((item) => itemCall(prisma, provider, item, true))
        const answers = (await prisma.$transaction(items as never, transactionOptions)) as unknown[]
        return answers.map((value, i) => itemAnswer(step.items[i] as BatchItem, value))
      })
      compare('batch', cached, oracle)
    },
    lazy: async (step) => {
      const pending = readCall(prisma, step.read, true) // created now, run when awaited
      if (!recordWrite('write', await capture(() => writeCall(prisma, step.write)))) return
      const cached = await captureAndSpoil(() => pending)
      compare('read created before the write, awaited after it', cached, await capture(() => readCall(raw, step.read)))
    },
    parallel: async (step) => {
      // Every caller's answer is recorded before any is spoiled: one caller's mutation must not reach another.
      const values: unknown[] = []
      const cached = await Promise.all(
        step.reads.map((read, i) =>
          capture(async () => {
            values[i] = await readCall(prisma, read, true)
            return values[i]
          }),
        ),
      )
      for (const value of values) spoil(value)
      for (const [i, read] of step.reads.entries()) {
        const oracle = await capture(() => readCall(raw, read))
        if (!compare(`parallel read ${i}`, cached[i] as Outcome, oracle, read)) return
      }
    },
    invalidate: async (step) => {
      await prisma.$cache.invalidate({ models: step.models, tags: step.tags })
    },
    instance: async (step) => {
      const other = target.instance ? await target.instance() : prisma
      try {
        for (const [i, read] of step.reads.entries()) {
          if (!(await compareRead(`instance read ${i}`, other, read))) return
        }
        if (!step.write) return
        const seen = bus?.count ?? 0
        if (!recordWrite('instance write', await capture(() => runWrite(other, step.write as WriteSpec)))) return
        for (const [i, read] of step.reads.entries()) {
          if (!(await compareRead(`instance read ${i} after its own write`, other, read))) return
        }
        if (other === prisma) return
        await bus?.after(seen)
        for (const [i, read] of step.reads.entries()) {
          if (!(await compareEventually(`main client read ${i} after the instance's write`, prisma, read))) return
        }
      } finally {
        if (other !== prisma) {
          await other.$cache.close()
          await other.$disconnect()
        }
      }
    },
    omit: async (step) => {
      const other = await target.omitted()
      try {
        for (const [i, read] of step.reads.entries()) {
          if (!(await compareRead(`omit read ${i}`, other.prisma, read, other.raw))) return
        }
        if (!step.write) return
        // Without Redis each client has its own local tier and hears no other's writes: write on the main one.
        const [writer, oracle] = other.shared ? [other.prisma, other.raw] : [prisma, raw]
        const seen = bus?.count ?? 0
        if (!recordWrite('omit write', await capture(() => runWrite(writer, step.write as WriteSpec)))) return
        for (const [i, read] of step.reads.entries()) {
          if (!(await compareRead(`read ${i} after the omit step's write`, writer, read, oracle))) return
        }
        if (!other.shared) return
        await bus?.after(seen)
        for (const [i, read] of step.reads.entries()) {
          if (!(await compareEventually(`main client read ${i} after the omit client's write`, prisma, read))) return
        }
      } finally {
        await other.close()
      }
    },
  }

  for (index = 0; index < steps.length && !failure; index++) {
    const step = steps[index] as Step
    stats.steps++
    stats.byKind[step.kind] = (stats.byKind[step.kind] ?? 0) + 1
    try {
      await withTimeout((steppers[step.kind] as (s: Step) => Promise<void>)(step), options.stepTimeoutMs ?? 15_000)
    } catch (error) {
      const timedOut = error instanceof StepTimeout
      fail({
        kind: timedOut ? 'timeout' : 'error',
        where: step.kind,
        detail: timedOut
          ? (error as Error).message
          : `the harness threw ${JSON.stringify(errorSignature(error))}: ${(error as Error)?.stack ?? error}`,
      })
    }
    if (failure) break
    options.onStep?.(index, step)
  }
  bus?.close()
  return { failure, stats }
}

/** The clients of a matrix case, as the runner uses them. */
export function targetOf(c: DifferentialCase, setup: Setup): Target {
  return {
    provider: c.provider,
    raw: setup.raw,
    prisma: setup.prisma,
    omitted: () => omitClients(c, setup, caseOptions(c)),
    ...(c.tiers === 'two-tier' && setup.redis
      ? { instance: () => setup.instance(), bus: { redis: setup.redis, channel: `${setup.prefix}:bus` } }
      : {}),
  }
}

/**
 * Options of the cached clients under test. A generous Redis timeout: a bump that times out on a loaded machine
 * leaves other instances stale until the entry's TTL, by design (the fault suites test that); here it would read as
 * a difference.
 */
export const cacheOptions = { redisTimeout: 5000 }

/** A matrix case, with every model `invalidate` (schema text read at run time) or `write-through` (generated module). */
export type DifferentialCase = Case & { strategy: 'invalidate' | 'write-through' }

const writeThroughModels = [
  'User',
  'Profile',
  'Post',
  'Comment',
  'Tag',
  'Team',
  'Membership',
  'Box',
  'Crate',
  'Item',
  'Person',
  'Passport',
  'Stamp',
]

/** The cached clients' options for a case. */
export function caseOptions(c: DifferentialCase): CacheOptions {
  if (c.strategy === 'invalidate') return cacheOptions
  const models = Object.fromEntries(writeThroughModels.map((m) => [m, { strategy: 'write-through' as const }]))
  return { ...cacheOptions, schema, models }
}

/** Runs `steps` on a fresh database and fresh clients for `c`, then tears everything down. */
export async function runFresh(
  c: DifferentialCase,
  steps: readonly Step[],
  options: RunOptions = {},
): Promise<{ failure?: Failure; stats: RunStats }> {
  const setup = await setupCase(c, caseOptions(c))
  try {
    return await runSteps(targetOf(c, setup), steps, options)
  } finally {
    await setup.close()
  }
}

/**
 * What kind of failure this is, stable while a sequence shrinks (indices left out): a shrunk sequence must fail the
 * same way, not slip into another difference (a validation error made by removing an argument, say).
 */
export function failureSignature(f: Failure): string {
  const side = (o: Outcome | undefined) => (o === undefined ? '-' : o.ok ? 'value' : o.error.class)
  return [f.kind, f.where.replace(/\d+/g, '#'), side(f.cached), side(f.oracle)].join('|')
}

/** The failure, for a human: which step, where, what differed, both answers. */
export function describeFailure(f: Failure): string {
  const lines = [`step ${f.index} (${describeStep(f.step)}), ${f.where}: ${f.kind}`]
  if (f.read && !(f.step.kind === 'read' && f.step.read === f.read)) {
    lines.push(`  the read: ${describeStep({ kind: 'read', read: f.read }).slice('read '.length)}`)
  }
  lines.push(`  ${f.detail}`)
  const show = (o: Outcome) => outcomeText(o) + (!o.ok && o.message ? ` (${o.message})` : '')
  if (f.cached) lines.push(`  cached: ${show(f.cached)}`)
  if (f.oracle) lines.push(`  oracle: ${show(f.oracle)}`)
  return lines.join('\n')
}
