// GET /metrics: Prometheus text. Strata's metrics (reads by model and outcome, hit ratio per model, latency per
// tier, fills, invalidations, errors) are read from `$cache.stats()` at each scrape; http_requests_total counts
// responses by route and status, so the share of 304s is visible too.
import type { FastifyInstance } from 'fastify'
import { Counter, type Registry } from 'prom-client'

export function metricsRoutes(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP responses, by method, route and status code.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    requests.inc({ method: request.method, route, status: String(reply.statusCode) })
  })

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', registry.contentType).header('cache-control', 'no-store')
    return registry.metrics()
  })
}
