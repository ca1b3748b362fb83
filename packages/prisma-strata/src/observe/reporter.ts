/**
 * Where what the cache does is told: cache-side faults (counted, handed to `onError`, and otherwise logged at most
 * once per code per interval so a Redis outage does not flood the logs) and the `onHit`/`onMiss`/`onInvalidate`
 * hooks. Nothing here ever throws to a caller: a hook that throws or rejects is a `HookError`.
 */
import { CodecError, EntryTooLargeError, HookError, type StrataError } from '../errors'
import type { HitEvent, InvalidateEvent, MissEvent } from '../options'
import type { Stats } from './stats'

const LOG_INTERVAL_MS = 10_000

/** Takes a cache-side fault; never throws. */
export type ReportError = (error: StrataError) => void

export interface ReporterOptions {
  onError: ((error: StrataError) => void) | undefined
  onHit: ((event: HitEvent) => void) | undefined
  onMiss: ((event: MissEvent) => void) | undefined
  onInvalidate: ((event: InvalidateEvent) => void) | undefined
  /** The largest encoded result the cache keeps, named by `EntryTooLargeError`. */
  maxEntryBytes: number
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

export class Reporter {
  private readonly lastLogged = new Map<string, number>()
  /** Whether `onHit` is set: the hit path builds no event otherwise. */
  readonly wantsHits: boolean
  /** Bound: handed to the tiers and the bus as their error sink. */
  readonly error: ReportError = (error) => this.fault(error)

  constructor(
    private readonly stats: Stats,
    private readonly options: ReporterOptions,
  ) {
    this.wantsHits = options.onHit !== undefined
  }

  /** A value or frame that could not be encoded or decoded. */
  codec(message: string, cause: unknown): void {
    this.fault(new CodecError(message, cause))
  }

  /** A result or frame over `maxEntryBytes`: not cached, or not read. */
  tooLarge(bytes: number): void {
    this.fault(new EntryTooLargeError(bytes, this.options.maxEntryBytes))
  }

  hit(event: HitEvent): void {
    if (this.options.onHit) this.call(this.options.onHit, event)
  }

  /** A database query that answered a read; `started`, when it was sent (`performance.now()`). */
  miss(model: string, operation: string, started: number): void {
    if (this.options.onMiss)
      this.call(this.options.onMiss, { model, operation, durationMs: performance.now() - started })
  }

  invalidated(event: InvalidateEvent): void {
    if (this.options.onInvalidate) this.call(this.options.onInvalidate, event)
  }

  get wantsInvalidations(): boolean {
    return this.options.onInvalidate !== undefined
  }

  /** Runs a user hook; one that throws must not turn into the caller's error. */
  private call<E>(fn: (event: E) => void, event: E): void {
    try {
      const result: unknown = fn(event)
      // An async hook that rejects would be an unhandled rejection, which ends the process by default.
      if (isThenable(result)) result.then(undefined, (error: unknown) => this.fault(new HookError(error)))
    } catch (error) {
      this.fault(new HookError(error))
    }
  }

  private fault(error: StrataError): void {
    this.stats.error(error.code)
    const { onError } = this.options
    if (onError) {
      try {
        const result: unknown = onError(error)
        // An async onError that rejects must not become an unhandled rejection either.
        if (isThenable(result)) result.then(undefined, () => undefined)
      } catch {
        // A faulty hook must not turn a cache fault into a caller's error.
      }
      return
    }
    const now = Date.now()
    if ((this.lastLogged.get(error.code) ?? 0) + LOG_INTERVAL_MS > now) return
    this.lastLogged.set(error.code, now)
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
    console.warn(`[prisma-strata] ${error.code} ${error.message}${cause}`)
  }
}
