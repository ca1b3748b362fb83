// OpenTelemetry (prisma-strata/otel): what the cache did for a request shows on that request's span, as events
// (hits by tier, misses with their duration, invalidations, faults) or, asked for, as short spans of the misses.

import { type Context, context, type Span } from '@opentelemetry/api'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { type CacheOptions, combineHooks } from 'prisma-strata'
import { strataTracing } from 'prisma-strata/otel'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { matrix, setupCase } from './support/matrix.ts'
import { AsyncLocalContextManager } from './support/otel-context.ts'

const exporter = new InMemorySpanExporter()
/** Every span's start and end, in the order they happened, with when (monotonic clock, ms). */
const lifecycle: Array<{ event: string; at: number }> = []
const recorder: SpanProcessor = {
  onStart: (span) => void lifecycle.push({ event: `start ${span.name}`, at: performance.now() }),
  onEnd: (span) => void lifecycle.push({ event: `end ${span.name}`, at: performance.now() }),
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
}
const tracer = new BasicTracerProvider({
  spanProcessors: [recorder, new SimpleSpanProcessor(exporter)],
}).getTracer('test')

/** Runs `work` inside an active span named `name`, as an HTTP framework's instrumentation would. */
function request<T>(name: string, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span: Span) => {
    try {
      return await work()
    } finally {
      span.end()
    }
  })
}

const finished = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name)
const events = (name: string) =>
  finished(name).flatMap((s) => s.events.map((e) => ({ name: e.name, attributes: e.attributes })))

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalContextManager())
})
afterEach(() => {
  exporter.reset()
  lifecycle.length = 0
})
afterAll(() => context.disable())

describe.each(matrix.filter((c) => c.provider === 'sqlite'))('otel: $provider / $tiers', (c) => {
  it("each hit, miss and invalidation is an event on the request's span, with model, operation and tier", async () => {
    const s = await setupCase(c, strataTracing())
    try {
      await request('GET /users', async () => {
        await s.prisma.user.findMany()
        await s.prisma.user.findMany()
        await s.prisma.user.create({ data: { email: 'otel@x' } })
      })
      expect(events('GET /users')).toEqual([
        {
          name: 'strata.miss',
          attributes: {
            'strata.model': 'User',
            'strata.operation': 'findMany',
            'strata.duration_ms': expect.any(Number),
          },
        },
        {
          name: 'strata.hit',
          attributes: {
            'strata.model': 'User',
            'strata.operation': 'findMany',
            'strata.tier': 'local',
            'strata.stale': false,
          },
        },
        { name: 'strata.invalidate', attributes: { 'strata.models': ['User'], 'strata.tags': 0 } },
      ])
      // Outside any span nothing is recorded (and nothing fails).
      await s.prisma.user.findMany()
      expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['GET /users'])

      if (c.tiers === 'two-tier') {
        // Another instance finds in Redis what this one filled: a Redis hit, with its round trip.
        await s.prisma.user.count()
        const other = await s.instance()
        await request('GET /users/count', () => other.user.count())
        expect(events('GET /users/count')).toEqual([
          {
            name: 'strata.hit',
            attributes: {
              'strata.model': 'User',
              'strata.operation': 'count',
              'strata.tier': 'redis',
              'strata.stale': false,
              'strata.duration_ms': expect.any(Number),
            },
          },
        ])
      }
    } finally {
      await s.close()
    }
  })

  it('with missSpans, a miss is a child span of the request covering its query', async () => {
    // The times Strata gives the miss span (performance clock, ms), seen as it passes them.
    const given: { start?: unknown; end?: unknown } = {}
    const seeing = {
      startSpan(name: string, options: { startTime?: unknown }, ctx: Context) {
        given.start = options.startTime
        const span = tracer.startSpan(name, options as never, ctx)
        const end = span.end.bind(span)
        span.end = (time) => {
          given.end = time
          end(time)
        }
        return span
      },
    } as unknown as typeof tracer
    const s = await setupCase(c, strataTracing({ tracer: seeing, missSpans: true }))
    try {
      await request('GET /posts', async () => {
        await s.prisma.post.findMany({ where: { published: true } })
        await s.prisma.post.findMany({ where: { published: true } })
      })
      const [parent] = finished('GET /posts')
      const misses = finished('strata.miss')
      expect(misses).toHaveLength(1)
      const [miss] = misses
      expect(miss?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId)
      expect(miss?.spanContext().traceId).toBe(parent?.spanContext().traceId)
      expect(miss?.attributes).toMatchObject({ 'strata.model': 'Post', 'strata.operation': 'findMany' })
      // Covered: the miss's span, made once the query has answered and placed back in time over it, lies within the
      // request. Told on the monotonic clock Strata gives the span its times on, against when the request's span
      // started and the miss's ended: each span anchors itself on the wall clock, in whole milliseconds, when it is
      // made, and on a loaded VM the wall clock has been seen to move against the monotonic one within a request, so
      // two spans' timestamps agree only to a few milliseconds.
      expect(lifecycle.map((l) => l.event)).toEqual([
        'start GET /posts',
        'start strata.miss',
        'end strata.miss',
        'end GET /posts',
      ])
      const [requestStarted, , missEnded] = lifecycle.map((l) => l.at) as [number, number, number]
      const [start, end] = [given.start, given.end] as [number, number]
      expect(start).toBeGreaterThanOrEqual(requestStarted)
      expect(end).toBeLessThanOrEqual(missEnded)
      expect(end - start).toBeCloseTo(miss?.attributes['strata.duration_ms'] as number, 6)
      expect(end - start).toBeGreaterThan(0)
      // The span's own duration is the difference of those two times.
      const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6
      expect(ms(miss?.duration as [number, number])).toBeCloseTo(end - start, 3)
      expect(events('GET /posts').map((e) => e.name)).toEqual(['strata.hit'])
    } finally {
      await s.close()
    }
  })

  it('combined with other hooks, every one runs; with errors, a fault is an event too', async () => {
    const codes: string[] = []
    const own: CacheOptions = {
      onHit: () => {
        throw new Error('a faulty hook of the app')
      },
      onError: (e) => codes.push(e.code),
    }
    const s = await setupCase(c, combineHooks(strataTracing({ errors: true }), own))
    try {
      await request('GET /tags', async () => {
        await s.prisma.tag.findMany()
        await expect(s.prisma.tag.findMany()).resolves.toEqual([])
      })
      expect(codes).toEqual(['E_HOOK'])
      expect(events('GET /tags')).toEqual([
        expect.objectContaining({ name: 'strata.miss' }),
        expect.objectContaining({ name: 'strata.hit' }),
        {
          name: 'strata.error',
          attributes: {
            'strata.error.code': 'E_HOOK',
            'exception.type': 'HookError',
            'exception.message': expect.stringContaining('hook'),
          },
        },
      ])
    } finally {
      await s.close()
    }
  })
})
