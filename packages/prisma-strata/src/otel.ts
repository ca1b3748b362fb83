/**
 * OpenTelemetry for Strata, on @opentelemetry/api (an optional peer dependency: install it to use this entry).
 *
 *   import { strataTracing } from 'prisma-strata/otel'
 *   const prisma = new PrismaClient({ adapter }).$extends(cache({ redis, ...strataTracing() }))
 *
 * Every cache hit, miss and invalidation becomes an event on the span active where the read or write was made
 * (an HTTP request's, typically), so a trace shows which queries the cache answered, from which tier, and which
 * went to the database and for how long. With no active span, or one not sampled, a hook returns at once; without
 * this entry imported, nothing of OpenTelemetry is loaded.
 */
import { type Attributes, context, type Span, type Tracer, trace } from '@opentelemetry/api'
import type { StrataError } from './errors'
import type { StrataHooks } from './observe/hooks'
import type { HitEvent, InvalidateEvent, MissEvent } from './options'

export interface StrataTracingOptions {
  /** The tracer of `missSpans`. Default: `trace.getTracer('prisma-strata')`. */
  tracer?: Tracer
  /**
   * Record each miss as a child span `strata.miss` of the active span, covering its database query, instead of an
   * event: the query then shows in a trace's waterfall. Default: false.
   */
  missSpans?: boolean
  /**
   * Also record cache-side faults (Redis down or slow, codec errors...) as `strata.error` events. Like any
   * `onError`, this replaces Strata's default rate-limited `console.warn`. Default: false.
   */
  errors?: boolean
}

/** The span of the current request, when it records; undefined otherwise (nothing to do). */
function recordingSpan(): Span | undefined {
  const span = trace.getActiveSpan()
  return span?.isRecording() ? span : undefined
}

/**
 * Hooks for `cache({ ...strataTracing() })` (with other hooks: `combineHooks` from `prisma-strata`). Events:
 * `strata.hit` (`strata.model`, `strata.operation`, `strata.tier` local|redis, `strata.stale`, and for Redis hits
 * `strata.duration_ms`), `strata.miss` (`strata.model`, `strata.operation`, `strata.duration_ms` of the database
 * query), `strata.invalidate` (`strata.models`, `strata.tags`), and with `errors`, `strata.error`
 * (`strata.error.code`, `exception.type`, `exception.message`).
 */
export function strataTracing(options: StrataTracingOptions = {}): StrataHooks {
  const tracer = options.missSpans ? (options.tracer ?? trace.getTracer('prisma-strata')) : undefined
  const hooks: StrataHooks = {
    onHit(event: HitEvent) {
      const span = recordingSpan()
      if (!span) return
      const attributes: Attributes = {
        'strata.model': event.model,
        'strata.operation': event.operation,
        'strata.tier': event.tier,
        'strata.stale': event.stale,
      }
      if (event.durationMs !== undefined) attributes['strata.duration_ms'] = event.durationMs
      span.addEvent('strata.hit', attributes)
    },
    onMiss(event: MissEvent) {
      const span = recordingSpan()
      if (!span) return
      const attributes: Attributes = {
        'strata.model': event.model,
        'strata.operation': event.operation,
        'strata.duration_ms': event.durationMs,
      }
      if (tracer) {
        // The hook runs once the query has answered: the span is placed back in time over it. Times are
        // given on the performance clock, which the SDK anchors to the wall clock as it does for its own
        // spans (timeOrigin + now() drifts from Date.now() over a process's life).
        const end = performance.now()
        tracer.startSpan('strata.miss', { startTime: end - event.durationMs, attributes }, context.active()).end(end)
      } else span.addEvent('strata.miss', attributes)
    },
    onInvalidate(event: InvalidateEvent) {
      recordingSpan()?.addEvent('strata.invalidate', { 'strata.models': event.models, 'strata.tags': event.tags })
    },
  }
  if (options.errors) {
    hooks.onError = (error: StrataError) => {
      recordingSpan()?.addEvent('strata.error', {
        'strata.error.code': error.code,
        'exception.type': error.name,
        'exception.message': error.message,
      })
    }
  }
  return hooks
}
