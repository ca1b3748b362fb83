// OpenTelemetry (prisma-strata/otel): what the cache did for a request shows on that request's span, as events
// (hits by tier, misses with their duration, invalidations, faults) or, asked for, as short spans of the misses.

import { context, type Span } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { type CacheOptions, combineHooks } from 'prisma-strata'
import { strataTracing } from 'prisma-strata/otel'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { matrix, setupCase } from './support/matrix.ts'
import { AsyncLocalContextManager } from './support/otel-context.ts'

const exporter = new InMemorySpanExporter()
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('test')

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
afterEach(() => exporter.reset())
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
    // Each span anchors itself on the wall clock when it is made (Date.now(), whole milliseconds), so two spans
    // agree only as far as the wall clock kept pace with the monotonic one between their making: on a loaded VM
    // it has been seen to jump a few milliseconds and back within one request. The skew is sampled at each making.
    const skew = () => Date.now() - performance.now()
    let missSkew: number | undefined
    const sampling = {
      startSpan: (...args: Parameters<typeof tracer.startSpan>) => {
        missSkew = skew()
        return tracer.startSpan(...args)
      },
    } as unknown as typeof tracer
    const s = await setupCase(c, strataTracing({ tracer: sampling, missSpans: true }))
    try {
      let parentSkew = 0
      await request('GET /posts', async () => {
        parentSkew = skew()
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
      // Within 2 ms (two anchors and two samples, each in whole milliseconds), and however far the wall clock
      // moved against the monotonic one between the two spans' making.
      const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6
      const resolution = 2 + Math.abs((missSkew as number) - parentSkew)
      expect(ms(miss?.startTime as [number, number])).toBeGreaterThanOrEqual(
        ms(parent?.startTime as [number, number]) - resolution,
      )
      expect(ms(miss?.endTime as [number, number])).toBeLessThanOrEqual(
        ms(parent?.endTime as [number, number]) + resolution,
      )
      expect(ms(miss?.endTime as [number, number]) - ms(miss?.startTime as [number, number])).toBeGreaterThan(0)
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
