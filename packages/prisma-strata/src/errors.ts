/**
 * Every error Strata creates, each with a stable `code`. Only `StrataOptionsError` is ever thrown to the caller
 * (at `cache(...)`); the others describe cache-side faults, which are reported through `onError` and
 * `$cache.stats()` and never reach a query's caller (design invariant 7, docs/design.md).
 */
export class StrataError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** Invalid options passed to `cache(...)` or found in a `/// @cache(...)` annotation. */
export class StrataOptionsError extends StrataError {
  constructor(message: string) {
    super('E_STRATA_OPTIONS', message)
  }
}

/** A Redis command failed, timed out, or was skipped because the circuit breaker is open. */
export class RedisUnavailableError extends StrataError {
  constructor(operation: string, cause?: unknown) {
    super('E_REDIS_UNAVAILABLE', `Redis ${operation} failed; the query was answered by the database`, { cause })
  }
}

/** Bytes under one of our keys could not be decoded (corrupt, truncated, foreign or from another format). */
export class CodecError extends StrataError {
  constructor(message: string, cause?: unknown) {
    super('E_CODEC', message, { cause })
  }
}

/** The invalidation bus (Redis pub/sub) dropped; local entries were discarded. */
export class BusError extends StrataError {
  constructor(message: string, cause?: unknown) {
    super('E_BUS', message, { cause })
  }
}

/** A result over `maxEntryBytes`: returned to the caller, not cached (or, found in Redis, not read). */
export class EntryTooLargeError extends StrataError {
  constructor(bytes: number, limit: number) {
    super('E_ENTRY_TOO_LARGE', `a result of ${bytes} bytes is over maxEntryBytes (${limit}); it was not cached`)
  }
}

/** `context` returned nothing for a read: the read went to the database and was not cached. */
export class ContextMissingError extends StrataError {
  constructor(model: string) {
    super(
      'E_CONTEXT_MISSING',
      `context() returned undefined for a ${model} read; it was answered by the database and not cached. Return the partition (e.g. the tenant id) for every read, or use cache: false.`,
    )
  }
}

/** `context` returned something other than a string or a number: the read went to the database, uncached. */
export class ContextInvalidError extends StrataError {
  constructor(model: string, what: string, cause?: unknown) {
    super(
      'E_CONTEXT_INVALID',
      `context() ${what} for a ${model} read; it was answered by the database and not cached. Return a string or a number (e.g. the tenant id), synchronously.`,
      { cause },
    )
  }
}

/** A background refresh (stale-while-revalidate) failed; the stale entry stays until `swr`/`grace` end. */
export class RefreshFailedError extends StrataError {
  constructor(cause: unknown) {
    super('E_REFRESH_FAILED', 'a background refresh failed; the stale entry stays', { cause })
  }
}

/** A hook (`onHit`, `onMiss`, `onInvalidate`) threw; the read or write it observed went on. */
export class HookError extends StrataError {
  constructor(cause: unknown) {
    super('E_HOOK', 'a hook (onHit, onMiss or onInvalidate) threw', { cause })
  }
}

/** Something Strata does after a write returned (a bump, a row put) failed; the write's own result stands. */
export class AfterWriteError extends StrataError {
  constructor(cause: unknown) {
    super('E_AFTER_WRITE', 'caching work after a write failed; every cached row of the model was dropped instead', {
      cause,
    })
  }
}

/** The SQL parser could not load: every raw statement bumps every model (correct, only less precise). */
export class SqlParserError extends StrataError {
  constructor(cause: unknown) {
    super('E_SQL_PARSER', 'the SQL parser did not load: raw SQL bumps every model', { cause })
  }
}

/**
 * Following the database's change stream (`changes`) failed or cannot start: the slot or publication is missing,
 * `wal_level` is not `logical`, the connection dropped. Writes from outside Prisma stay cached until their TTL
 * while it lasts; the follower keeps retrying.
 */
export class ChangesError extends StrataError {
  constructor(message: string, cause?: unknown) {
    super('E_CHANGES', message, { cause })
  }
}

/**
 * `close()` (or `$disconnect()`) gave up on bumps that Redis did not take: other instances may serve what those
 * writes changed until it expires.
 */
export class BumpsLostError extends StrataError {
  constructor(names: number, waitedMs: number, cause?: unknown) {
    super(
      'E_BUMPS_LOST',
      `close(): ${names} version bump(s) of writes could not reach Redis in ${waitedMs} ms; other instances may serve what those writes changed until it expires`,
      { cause },
    )
  }
}

/** The codes of every Strata error, for matching in `onError`. */
export const errorCodes = {
  options: 'E_STRATA_OPTIONS',
  redisUnavailable: 'E_REDIS_UNAVAILABLE',
  codec: 'E_CODEC',
  bus: 'E_BUS',
  entryTooLarge: 'E_ENTRY_TOO_LARGE',
  contextMissing: 'E_CONTEXT_MISSING',
  contextInvalid: 'E_CONTEXT_INVALID',
  refreshFailed: 'E_REFRESH_FAILED',
  hook: 'E_HOOK',
  afterWrite: 'E_AFTER_WRITE',
  sqlParser: 'E_SQL_PARSER',
  changes: 'E_CHANGES',
  bumpsLost: 'E_BUMPS_LOST',
} as const
