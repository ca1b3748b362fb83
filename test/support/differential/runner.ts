// Runs a sequence of steps against a cached client and its oracle (an uncached client on the same database) and
// stops at the first answer that differs.
//
// - A read runs on both clients; the normalized answers (value, or error class + code) must be equal.
// - A write (model write or raw SQL) runs once, through the cached client, so Strata sees it and must invalidate;
//   the generator follows every write with reads.
// - An interactive transaction runs first on the oracle, rolled back, recording what each item answered; then for
//   real on the cached client (committed, or rolled back by throwing). Inside, both runs must answer alike (reads
//   inside a transaction never come from the cache). Reads on the outer cached client while the transaction is open
//   (PostgreSQL only: SQLite shares one connection, so the outer client would see the uncommitted writes) are
//   compared with the oracle at once.
// - A batch `$transaction([...])` runs first on the oracle as an interactive transaction, item after item, rolled
//   back (a batch is exactly that: its items in order in one transaction, failing as a whole); then for real.
// - An `instance` step starts a second cached client on the same Redis (two-tier) and compares reads from it: it
//   starts empty, so it answers from Redis what the first client filled.
import type { Provider } from '../../../prisma/database.ts'
import { type Case, type CachedClient, type RawClient, setupCase } from '../matrix.ts'
import { type Normal, normalize, type Outcome, capture, errorSignature, firstDifference, outcomeText } from './normalize.ts'
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
}

export interface Failure {
  /** Index of the failing step in the sequence. */
  index: number
  step: Step
  kind: 'mismatch' | 'timeout' | 'error'
  /** Where in the step: `read`, `itx item 2`, `batch`, `instance read 1`, ... */
  where: string
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

const transactionOptions = { maxWait: 10_000, timeout: 20_000 }

function delegate(client: AnyClient, model: string): Record<string, Callable> {
  const d = (client as Record<string, Record<string, Callable> | undefined>)[model]
  if (!d) throw new Error(`no model ${model} on this client`)
  return d
}

/** `client[model][op](args)` and its fluent calls: Prisma's own promise (or Strata's lazy read), not awaited. */
export function readCall(client: AnyClient, spec: ReadSpec): PromiseLike<unknown> {
  const d = delegate(client, spec.model)
  const method = d[spec.op]
  if (!method) throw new Error(`no method ${spec.model}.${spec.op}`)
  // Called on its delegate: extension methods read their model from `this`.
  let promise = method.call(d, revive(spec.args))
  for (const [field, args] of spec.fluent ?? []) {
    const next = promise[field] as Callable | undefined
    if (typeof next !== 'function') throw new Error(`no fluent relation ${field} after ${spec.model}.${spec.op}`)
    promise = args === undefined ? next.call(promise) : next.call(promise, revive(args))
  }
  return promise
}

export function writeCall(client: AnyClient, spec: WriteSpec): PromiseLike<unknown> {
  const d = delegate(client, spec.model)
  const method = d[spec.op]
  if (!method) throw new Error(`no method ${spec.model}.${spec.op}`)
  return method.call(d, revive(spec.args as JsonObject))
}

/** A batch item: Prisma's promise (it must stay one to join the batch); its answer goes through `itemAnswer`. */
function itemCall(client: AnyClient, provider: Provider, item: BatchItem): PromiseLike<unknown> {
  if ('read' in item) return readCall(client, item.read)
  if ('write' in item) return writeCall(client, item.write)
  return rawCall(client, provider, item.raw as RawSpec)
}

function itemAnswer(item: BatchItem, value: unknown): unknown {
  return 'raw' in item ? rawAnswer(item.raw as RawSpec, value) : value
}

function withTimeout<T>(promise: PromiseLike<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepTimeout(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer))
}

function isPrismaError(outcome: Outcome): boolean {
  return outcome.ok || outcome.error.class.startsWith('PrismaClient')
}

export async function runSteps(target: Target, steps: readonly Step[], options: RunOptions = {}): Promise<{
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

  const compare = (where: string, cached: Outcome, oracle: Outcome): boolean => {
    stats.comparisons++
    if (outcomeText(cached) === outcomeText(oracle)) return true
    const a = cached.ok ? cached.value : (cached as { error: Normal }).error
    const b = oracle.ok ? oracle.value : (oracle as { error: Normal }).error
    const detail = cached.ok !== oracle.ok ? 'one answered, the other threw' : (firstDifference(a, b) ?? 'differs')
    fail({ kind: 'mismatch', where, detail, cached, oracle })
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

  const compareRead = async (where: string, client: AnyClient, spec: ReadSpec): Promise<boolean> => {
    const cached = await capture(() => readCall(client, spec))
    const oracle = await capture(() => readCall(raw, spec))
    return compare(where, cached, oracle)
  }

  /**
   * An interactive transaction body on `client` (a transaction client), answers appended to `out`. `real` is false
   * for the oracle's run, which skips the reads on the outer client.
   */
  const runBody = async (client: AnyClient, body: TxItem[], out: Outcome[], real: boolean, path: string) => {
    for (const [i, item] of body.entries()) {
      if (failure) return
      if ('read' in item) out.push(await capture(() => readCall(client, item.read)))
      else if ('write' in item) out.push(await capture(() => writeCall(client, item.write)))
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
        fail({ kind: 'error', where: 'itx (oracle run)', detail: `the oracle transaction ended with ${outcomeText(oracleRun)}` })
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
          for (const item of step.items) results.push(normalize(itemAnswer(item, await itemCall(tx, provider, item))))
          throw new Rollback()
        }, transactionOptions),
      )
      const oracle: Outcome =
        !oracleRun.ok && oracleRun.error.class === 'Rollback' ? { ok: true, value: results } : oracleRun
      const cached = await capture(async () => {
        const items = step.items.map((item) => itemCall(prisma, provider, item))
        const answers = (await prisma.$transaction(items as never, transactionOptions)) as unknown[]
        return answers.map((value, i) => itemAnswer(step.items[i] as BatchItem, value))
      })
      compare('batch', cached, oracle)
    },
    instance: async (step) => {
      const other = target.instance ? await target.instance() : prisma
      try {
        for (const [i, read] of step.reads.entries()) {
          if (!(await compareRead(`instance read ${i}`, other, read))) return
        }
      } finally {
        if (other !== prisma) {
          await other.$cache.close()
          await other.$disconnect()
        }
      }
    },
  }

  for (index = 0; index < steps.length && !failure; index++) {
    const step = steps[index] as Step
    stats.steps++
    stats.byKind[step.kind] = (stats.byKind[step.kind] ?? 0) + 1
    try {
      await withTimeout(
        (steppers[step.kind] as (s: Step) => Promise<void>)(step),
        options.stepTimeoutMs ?? 15_000,
      )
    } catch (error) {
      const timedOut = error instanceof StepTimeout
      fail({
        kind: timedOut ? 'timeout' : 'error',
        where: step.kind,
        detail: timedOut ? (error as Error).message : `the harness threw ${JSON.stringify(errorSignature(error))}: ${(error as Error)?.stack ?? error}`,
      })
    }
    if (failure) break
    options.onStep?.(index, step)
  }
  return { failure, stats }
}

/** Runs `steps` on a fresh database and fresh clients for `c`, then tears everything down. */
export async function runFresh(
  c: Case,
  steps: readonly Step[],
  options: RunOptions = {},
): Promise<{ failure?: Failure; stats: RunStats }> {
  const setup = await setupCase(c)
  try {
    const target: Target = {
      provider: c.provider,
      raw: setup.raw,
      prisma: setup.prisma,
      ...(c.tiers === 'two-tier' ? { instance: () => setup.instance() } : {}),
    }
    return await runSteps(target, steps, options)
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
  const lines = [
    `step ${f.index} (${describeStep(f.step)}), ${f.where}: ${f.kind}`,
    `  ${f.detail}`,
  ]
  const show = (o: Outcome) => outcomeText(o) + (!o.ok && o.message ? ` (${o.message})` : '')
  if (f.cached) lines.push(`  cached: ${show(f.cached)}`)
  if (f.oracle) lines.push(`  oracle: ${show(f.oracle)}`)
  return lines.join('\n')
}
