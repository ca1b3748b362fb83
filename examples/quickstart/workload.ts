// A read-heavy workload: the queries of a small blog, keys drawn so that a few users and posts are much more popular
// than the rest (Zipf-like, as real traffic is), with a few writes mixed in. Every call is awaited and timed alone.
import type { PrismaClient } from '../../generated/sqlite/client/client.ts'
import { random } from './seed.ts'

/** Your app's queries, unchanged: they run as they are on the plain client and on the cached one. */
export const operations = {
  'user card': {
    share: 0.35,
    model: 'User',
    operation: 'findUnique',
    keys: 'users',
    run: (db: PrismaClient, id: number) => db.user.findUnique({ where: { id }, include: { profile: true } }),
  },
  'post page': {
    share: 0.3,
    model: 'Post',
    operation: 'findUnique',
    keys: 'posts',
    run: (db: PrismaClient, id: number) =>
      db.post.findUnique({ where: { id }, include: { author: { select: { name: true } }, tags: true } }),
  },
  'post comments': {
    share: 0.2,
    model: 'Comment',
    operation: 'findMany',
    keys: 'posts',
    run: (db: PrismaClient, postId: number) =>
      db.comment.findMany({ where: { postId }, orderBy: { id: 'asc' }, take: 20 }),
  },
  'posts per tag': {
    share: 0.1,
    model: 'Post',
    operation: 'count',
    keys: 'tags',
    run: (db: PrismaClient, id: number) => db.post.count({ where: { published: true, tags: { some: { id } } } }),
  },
  'new comment': {
    share: 0.05,
    model: 'Comment',
    operation: 'create',
    keys: 'posts',
    write: true,
    run: (db: PrismaClient, postId: number) =>
      db.comment.create({ data: { body: 'Nice post!', postId, authorId: 1 + (postId % 7) } }),
  },
} satisfies Record<string, Operation>

interface Operation {
  share: number
  /** The model and Prisma method the call is made with: where `$cache.stats()` counts it. */
  model: string
  operation: string
  keys: 'users' | 'posts' | 'tags'
  write?: boolean
  run(db: PrismaClient, key: number): Promise<unknown>
}

export type OperationName = keyof typeof operations
export const operationNames = Object.keys(operations) as OperationName[]

export interface Step {
  name: OperationName
  key: number
}

/** Draws 1..n with probability ∝ 1/rank^s, the ranks shuffled over the ids so the popular rows are not ids 1, 2, 3. */
function zipf(n: number, s: number, rng: () => number): () => number {
  const cdf = new Float64Array(n)
  let total = 0
  for (let rank = 1; rank <= n; rank++) {
    total += 1 / rank ** s
    cdf[rank - 1] = total
  }
  const ids = Array.from({ length: n }, (_, i) => i + 1)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[ids[i], ids[j]] = [ids[j] as number, ids[i] as number]
  }
  return () => {
    const u = rng() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cdf[mid] as number) < u) lo = mid + 1
      else hi = mid
    }
    return ids[lo] as number
  }
}

/** The same sequence of calls for both clients, so the comparison is like for like. */
export function plan(count: number, sizes: { users: number; posts: number; tags: number }, seed = 7): Step[] {
  const rng = random(seed)
  const draw = { users: zipf(sizes.users, 1, rng), posts: zipf(sizes.posts, 1, rng), tags: zipf(sizes.tags, 1, rng) }
  const steps: Step[] = []
  for (let i = 0; i < count; i++) {
    let u = rng()
    let name = operationNames[0] as OperationName
    for (const candidate of operationNames) {
      name = candidate
      u -= operations[candidate].share
      if (u < 0) break
    }
    steps.push({ name, key: draw[operations[name].keys]() })
  }
  return steps
}

/** Reads by model, and how many of them are the first of their query: a miss for any cache that starts empty. */
export function readsByModel(steps: Step[]): Record<string, { reads: number; firstReads: number }> {
  const seen = new Set<string>()
  const out: Record<string, { reads: number; firstReads: number }> = {}
  for (const name of operationNames) {
    const op: Operation = operations[name]
    if (!op.write) out[op.model] = { reads: 0, firstReads: 0 }
  }
  for (const { name, key } of steps) {
    const op: Operation = operations[name]
    if (op.write) continue
    const counts = out[op.model] ?? { reads: 0, firstReads: 0 }
    out[op.model] = counts
    counts.reads++
    if (!seen.has(`${name}:${key}`)) {
      seen.add(`${name}:${key}`)
      counts.firstReads++
    }
  }
  return out
}

export interface Latency {
  count: number
  /** Microseconds. */
  p50: number
  p99: number
}

export interface RunResult {
  totalMs: number
  /** SQL statements the run sent. */
  statements: number
  all: Latency
  reads: Latency
  byOperation: Record<OperationName, Latency>
}

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
  return { count: sorted.length, p50: at(0.5), p99: at(0.99) }
}

/**
 * Runs the steps one at a time. `clients` take turns (one client, or several app instances sharing Redis);
 * `statements()` reads the SQL counter; `signal` stops the run (Ctrl-C).
 */
export async function run(
  steps: Step[],
  clients: PrismaClient[],
  statements: () => number,
  signal?: AbortSignal,
  progress?: (done: number) => void,
): Promise<RunResult> {
  const samples = Object.fromEntries(operationNames.map((name) => [name, [] as number[]])) as Record<
    OperationName,
    number[]
  >
  const sqlBefore = statements()
  const started = performance.now()
  for (const [i, step] of steps.entries()) {
    signal?.throwIfAborted()
    const db = clients[i % clients.length] as PrismaClient
    const t0 = performance.now()
    await operations[step.name].run(db, step.key)
    samples[step.name].push((performance.now() - t0) * 1000)
    progress?.(i + 1)
  }
  const totalMs = performance.now() - started
  const reads = operationNames.filter((n) => !('write' in operations[n])).flatMap((n) => samples[n])
  return {
    totalMs,
    statements: statements() - sqlBefore,
    all: latency(Object.values(samples).flat()),
    reads: latency(reads),
    byOperation: Object.fromEntries(operationNames.map((n) => [n, latency(samples[n])])) as Record<
      OperationName,
      Latency
    >,
  }
}
