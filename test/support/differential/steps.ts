// The steps of a differential run, as plain JSON: a sequence prints readably, can be saved, replayed and shrunk.
// Values JSON cannot hold are tagged (`{ "$decimal": "1.5" }`, `{ "$bigint": "7" }`, `{ "$bytes": [1, 2] }`,
// `{ "$date": "2024-01-01T00:00:00.000Z" }`, `{ "$null": "DbNull" }`) and revived into Prisma values just before a
// call. Every step is fully specified (ids included): none depends on what an earlier step returned, so any subset
// of a sequence is still a valid sequence.
import { Prisma } from '../../../generated/sqlite/client/client.ts'

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

/** Prisma client delegates (the camel-case model names). */
export type ModelKey =
  | 'user'
  | 'profile'
  | 'post'
  | 'comment'
  | 'tag'
  | 'team'
  | 'membership'
  | 'auditLog'
  | 'box'
  | 'crate'
  | 'item'
  | 'person'
  | 'passport'
  | 'stamp'
  /** The `PostStats` view (`@cache(dependsOn: ["Post"])`): computed by the database from Post rows. */
  | 'postStats'

export type ReadOp =
  | 'findUnique'
  | 'findUniqueOrThrow'
  | 'findFirst'
  | 'findFirstOrThrow'
  | 'findMany'
  | 'count'
  | 'aggregate'
  | 'groupBy'

export type WriteOp =
  | 'create'
  | 'createMany'
  | 'createManyAndReturn'
  | 'update'
  | 'updateMany'
  | 'updateManyAndReturn'
  | 'upsert'
  | 'delete'
  | 'deleteMany'

/** A read: `client[model][op](args)`, then each fluent relation call (`.posts(args)`) in turn. */
export interface ReadSpec {
  model: ModelKey
  op: ReadOp
  args?: JsonObject
  fluent?: Array<[field: string, args?: JsonObject]>
  /** Strata's per-query `cache` argument (`{ ttl, swr, tags }` or `false`), passed to cached clients only. */
  cache?: JsonObject | false
}

export interface WriteSpec {
  model: ModelKey
  op: WriteOp
  args: JsonObject
}

/**
 * Raw SQL from the catalogue in raw-sql.ts: `unsafe` is `$executeRawUnsafe` with provider placeholders, `tagged` is
 * the `$executeRaw` template, `query` is `$queryRawUnsafe` of the statement with `RETURNING` (a write Strata must
 * recognise although it comes through `$queryRaw`).
 */
export interface RawSpec {
  form: 'unsafe' | 'tagged' | 'query'
  statement: string
  values: Array<string | number>
}

/** What an interactive transaction body does, in order. */
export type TxItem =
  | { read: ReadSpec }
  | { write: WriteSpec }
  | { raw: RawSpec }
  /** A read on the *outer* cached client while the transaction is open (PostgreSQL and MySQL: see the runner). */
  | { outer: ReadSpec }
  /** A nested `tx.$transaction(async (tx2) => ...)`, rolled back to its savepoint when `rollback`. */
  | { nested: TxItem[]; rollback: boolean }

export type BatchItem = { read: ReadSpec } | { write: WriteSpec } | { raw: RawSpec }

export type Step =
  /** The same read on the cached client and on the oracle; the answers must be equal. */
  | { kind: 'read'; read: ReadSpec }
  /** Several reads in turn, each compared (after a write: everything recently read, so a missed bump shows). */
  | { kind: 'reads'; reads: ReadSpec[] }
  /** A write through the cached client. */
  | { kind: 'write'; write: WriteSpec }
  | { kind: 'raw'; raw: RawSpec }
  /** `$transaction(async (tx) => ...)`: committed, or rolled back by throwing at the end. */
  | { kind: 'itx'; body: TxItem[]; rollback: boolean }
  /** `$transaction([...])`. */
  | { kind: 'batch'; items: BatchItem[] }
  /** A read created before a write and awaited after it: like Prisma's, Strata's reads run only when awaited. */
  | { kind: 'lazy'; read: ReadSpec; write: WriteSpec }
  /** The same reads at once on the cached client (single flight, Prisma's batching of findUnique). */
  | { kind: 'parallel'; reads: ReadSpec[] }
  /**
   * A second cached client started now on the same Redis (two-tier; the main client otherwise): its reads must
   * equal the oracle's; after its `write`, at once on itself and, within the bus delay, on the main client.
   */
  | { kind: 'instance'; reads: ReadSpec[]; write?: WriteSpec }
  /**
   * A second cached client started now on the same prefix, with a global `omit`: its reads must equal those of an
   * uncached client with the same `omit` (an entry the main client filled must not answer it, nor the other way
   * round). Its `write` goes through it when Redis is shared (two-tier), through the main client otherwise.
   */
  | { kind: 'omit'; reads: ReadSpec[]; write?: WriteSpec }
  /** `$cache.invalidate(...)` on the cached client. */
  | { kind: 'invalidate'; models: string[]; tags: string[] }

// ---------------------------------------------------------------------------------------------------------------
// Tagged values.

export const decimal = (value: string): Json => ({ $decimal: value })
export const bigint = (value: string): Json => ({ $bigint: value })
export const bytes = (value: number[]): Json => ({ $bytes: value })
export const date = (iso: string): Json => ({ $date: iso })
export const nullValue = (kind: 'DbNull' | 'JsonNull' | 'AnyNull'): Json => ({ $null: kind })

const nulls = { DbNull: Prisma.DbNull, JsonNull: Prisma.JsonNull, AnyNull: Prisma.AnyNull } as const

/** Turns the JSON form of arguments into what Prisma takes (a fresh object every call: Prisma may keep it). */
export function revive(value: Json | undefined): unknown {
  if (value === undefined || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(revive)
  const keys = Object.keys(value)
  if (keys.length === 1) {
    const tag = value[keys[0] as string]
    switch (keys[0]) {
      case '$decimal':
        return new Prisma.Decimal(tag as string)
      case '$bigint':
        return BigInt(tag as string)
      case '$bytes':
        return new Uint8Array(tag as number[])
      case '$date':
        return new Date(tag as string)
      case '$null':
        return nulls[tag as keyof typeof nulls]
    }
  }
  const out: Record<string, unknown> = {}
  for (const key of keys) out[key] = revive(value[key])
  return out
}

/** One line per step, for logs. */
export function describeStep(step: Step): string {
  const read = (r: ReadSpec) => {
    const args = r.cache === undefined ? (r.args ?? {}) : { ...r.args, cache: r.cache }
    const fluent = (r.fluent ?? []).map(([f, a]) => `.${f}(${a ? JSON.stringify(a) : ''})`).join('')
    return `${r.model}.${r.op}(${JSON.stringify(args)})${fluent}`
  }
  switch (step.kind) {
    case 'read':
      return `read ${read(step.read)}`
    case 'write':
      return `write ${step.write.model}.${step.write.op}(${JSON.stringify(step.write.args)})`
    case 'raw':
      return `raw ${step.raw.form} ${step.raw.statement}(${step.raw.values.join(', ')})`
    case 'itx':
      return `itx (${step.body.length} items, ${step.rollback ? 'rollback' : 'commit'})`
    case 'batch':
      return `batch (${step.items.length} items)`
    case 'reads':
      return step.reads.length === 1 ? `read ${read(step.reads[0] as ReadSpec)}` : `reads (${step.reads.length})`
    case 'lazy':
      return `lazy read ${read(step.read)} awaited after write ${step.write.model}.${step.write.op}(${JSON.stringify(step.write.args)})`
    case 'parallel':
      return `parallel (${step.reads.length} reads)`
    case 'invalidate':
      return `$cache.invalidate(${JSON.stringify({ models: step.models, tags: step.tags })})`
    case 'instance':
      return `instance (${step.reads.length} reads${step.write ? `, then ${step.write.model}.${step.write.op}` : ''})`
    case 'omit':
      return `client with a global omit (${step.reads.length} reads${step.write ? `, then ${step.write.model}.${step.write.op}` : ''})`
  }
}
