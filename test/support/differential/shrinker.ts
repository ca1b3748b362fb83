// Delta debugging (Zeller's ddmin) over a failing sequence: remove chunks, then single steps, while the sequence
// still fails, then try simpler variants of each remaining step. Generic over the step type: `fails(candidate)`
// replays a candidate from scratch (for the differential test: a fresh database and fresh clients) and says whether
// it still fails. The result is 1-minimal (no single step can be removed) unless the time budget ran out.
import type { JsonObject, ReadSpec, Step, WriteSpec } from './steps.ts'

export interface ShrinkOptions<S> {
  /** Smaller variants of one step, tried in its place (fewer items in a transaction, fewer arguments...). */
  simplify?: (step: S) => S[]
  /**
   * Simpler variants of the whole sequence, for changes that must be made in several steps at once (a read
   * that fills the cache and the same read that hits it must stay the same query).
   */
  simplifySequence?: (steps: S[]) => S[][]
  /** Stops improving after this many milliseconds and returns the best sequence found. Default: no limit. */
  budgetMs?: number
  log?: (message: string) => void
}

export interface ShrinkResult<S> {
  steps: S[]
  /** Candidates replayed. */
  tests: number
  /** False when the budget ran out before the sequence was 1-minimal. */
  complete: boolean
}

export async function shrink<S>(
  failing: readonly S[],
  fails: (candidate: S[]) => Promise<boolean>,
  options: ShrinkOptions<S> = {},
): Promise<ShrinkResult<S>> {
  const started = Date.now()
  const budget = options.budgetMs ?? Number.POSITIVE_INFINITY
  const seen = new Map<string, boolean>()
  let tests = 0
  let outOfTime = false

  const test = async (candidate: S[]): Promise<boolean> => {
    if (Date.now() - started > budget) {
      outOfTime = true
      return false
    }
    const key = JSON.stringify(candidate)
    const known = seen.get(key)
    if (known !== undefined) return known
    tests++
    const result = await fails(candidate)
    seen.set(key, result)
    return result
  }

  let current = [...failing]

  /** ddmin: split into n chunks; keep a chunk alone, or everything but a chunk, when that still fails. */
  const ddmin = async (): Promise<boolean> => {
    let changed = false
    let n = 2
    while (current.length >= 2 && !outOfTime) {
      const size = Math.ceil(current.length / n)
      const chunks: Array<[number, number]> = []
      for (let start = 0; start < current.length; start += size) chunks.push([start, start + size])
      let reduced = false
      // A chunk alone (rarely enough for a stateful bug, cheap while chunks are few).
      if (n <= 4) {
        for (const [start, end] of chunks) {
          const candidate = current.slice(start, end)
          if (candidate.length < current.length && (await test(candidate))) {
            current = candidate
            n = 2
            reduced = true
            break
          }
        }
      }
      // Everything but a chunk; later chunks first (what comes after the failing step rarely matters).
      if (!reduced) {
        for (const [start, end] of [...chunks].reverse()) {
          const candidate = [...current.slice(0, start), ...current.slice(end)]
          if (await test(candidate)) {
            current = candidate
            n = Math.max(n - 1, 2)
            reduced = true
            break
          }
        }
      }
      if (reduced) {
        changed = true
        options.log?.(`shrink: ${current.length} steps (${tests} replays)`)
        continue
      }
      if (n >= current.length) break
      n = Math.min(n * 2, current.length)
    }
    return changed
  }

  /** Each step in turn replaced by its simpler variants, as long as the sequence still fails. */
  const simplifyAll = async (): Promise<boolean> => {
    if (!options.simplify) return false
    let changed = false
    for (let i = 0; i < current.length && !outOfTime; i++) {
      let improved = true
      while (improved && !outOfTime) {
        improved = false
        for (const variant of options.simplify(current[i] as S)) {
          const candidate = [...current.slice(0, i), variant, ...current.slice(i + 1)]
          if (await test(candidate)) {
            current = candidate
            improved = true
            changed = true
            options.log?.(`shrink: simplified step ${i} (${tests} replays)`)
            break
          }
        }
      }
    }
    return changed
  }

  /** Whole-sequence variants, as long as one still fails. */
  const simplifySequence = async (): Promise<boolean> => {
    if (!options.simplifySequence) return false
    let changed = false
    let improved = true
    while (improved && !outOfTime) {
      improved = false
      for (const candidate of options.simplifySequence(current)) {
        if (await test(candidate)) {
          current = candidate
          improved = true
          changed = true
          options.log?.(`shrink: simplified the sequence (${tests} replays)`)
          break
        }
      }
    }
    return changed
  }

  await ddmin()
  // Simpler steps can make more steps removable, and the other way round: repeat until nothing helps.
  let changed = true
  while (changed && !outOfTime) {
    changed = false
    if (await simplifyAll()) changed = true
    if (await simplifySequence()) changed = true
    if (changed) await ddmin()
  }
  return { steps: current, tests, complete: !outOfTime }
}

// ---------------------------------------------------------------------------------------------------------------
// Simpler variants of differential steps.

function withoutKey(object: JsonObject, key: string): JsonObject {
  const { [key]: _removed, ...rest } = object
  return rest
}

/** The arguments with one key fewer, at the top level and inside `data`/`include`/`select`/`where`. */
function smallerArgs(args: JsonObject | undefined): JsonObject[] {
  if (!args) return []
  const out: JsonObject[] = []
  for (const key of Object.keys(args)) {
    out.push(withoutKey(args, key))
    const inner = args[key]
    if (inner && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length > 1) {
      for (const innerKey of Object.keys(inner)) out.push({ ...args, [key]: withoutKey(inner, innerKey) })
    }
  }
  return out
}

function smallerRead(read: ReadSpec): ReadSpec[] {
  const out: ReadSpec[] = smallerArgs(read.args).map((args) => ({ ...read, args }))
  if (read.cache !== undefined) {
    const { cache: _cache, ...withoutCache } = read
    out.push(withoutCache)
  }
  if (read.fluent?.length) {
    const fluent = read.fluent.slice(0, -1)
    out.push(fluent.length ? { ...read, fluent } : { model: read.model, op: read.op, args: read.args })
  }
  return out
}

function smallerWrite(write: WriteSpec): WriteSpec[] {
  return smallerArgs(write.args).map((args) => ({ ...write, args }))
}

function withoutEach<T>(items: readonly T[]): T[][] {
  return items.length <= 1 ? [] : items.map((_, i) => [...items.slice(0, i), ...items.slice(i + 1)])
}

/**
 * The sequence with one read made simpler everywhere it occurs as a step of its own, for `shrink`'s
 * `simplifySequence`: the read that filled the cache and the read that hit it change together.
 */
export function simplifyRepeatedReads(steps: Step[]): Step[][] {
  const texts = new Map<string, ReadSpec>()
  const count = new Map<string, number>()
  for (const step of steps) {
    if (step.kind !== 'read') continue
    const text = JSON.stringify(step.read)
    texts.set(text, step.read)
    count.set(text, (count.get(text) ?? 0) + 1)
  }
  const out: Step[][] = []
  for (const [text, read] of texts) {
    if ((count.get(text) ?? 0) < 2) continue
    for (const smaller of smallerRead(read)) {
      out.push(
        steps.map((step) =>
          step.kind === 'read' && JSON.stringify(step.read) === text ? { kind: 'read', read: smaller } : step,
        ),
      )
    }
  }
  return out
}

/** Simpler variants of one differential step, for `shrink`'s `simplify`. */
export function simplifyStep(step: Step): Step[] {
  switch (step.kind) {
    case 'read':
      return smallerRead(step.read).map((read) => ({ kind: 'read', read }))
    case 'write':
      return smallerWrite(step.write).map((write) => ({ kind: 'write', write }))
    case 'raw':
      return step.raw.form === 'unsafe' ? [] : [{ kind: 'raw', raw: { ...step.raw, form: 'unsafe' } }]
    case 'itx': {
      const out: Step[] = withoutEach(step.body).map((body) => ({ ...step, body }))
      if (step.rollback) out.push({ ...step, rollback: false })
      step.body.forEach((item, i) => {
        if ('nested' in item) {
          for (const nested of withoutEach(item.nested)) {
            out.push({ ...step, body: step.body.map((it, j) => (i === j ? { ...item, nested } : it)) })
          }
          // The nested transaction's items, inlined in the outer one.
          out.push({ ...step, body: [...step.body.slice(0, i), ...item.nested, ...step.body.slice(i + 1)] })
        }
      })
      return out
    }
    case 'batch':
      return withoutEach(step.items).map((items) => ({ kind: 'batch', items }))
    case 'reads':
      // One read alone first (usually the one that differed), then one read fewer.
      return [
        ...(step.reads.length > 1 ? step.reads.map((read): Step => ({ kind: 'read', read })) : []),
        ...withoutEach(step.reads).map((reads): Step => ({ kind: 'reads', reads })),
      ]
    case 'parallel':
      return withoutEach(step.reads).map((reads) => ({ kind: 'parallel', reads }))
    case 'invalidate':
      return []
    case 'lazy':
      return [
        ...smallerRead(step.read).map((read): Step => ({ ...step, read })),
        ...smallerWrite(step.write).map((write): Step => ({ ...step, write })),
      ]
    case 'instance':
    case 'omit': {
      const out: Step[] = withoutEach(step.reads).map((reads) => ({ ...step, reads }))
      if (step.write) {
        const { write: _write, ...withoutWrite } = step
        out.push(withoutWrite, ...smallerWrite(step.write).map((write) => ({ ...step, write })))
      }
      return out
    }
  }
}
