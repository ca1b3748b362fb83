// GET /health: the database must answer (503 otherwise); the cache is reported but never makes the API unhealthy,
// since Strata falls back to the database when Redis is away.
import type { FastifyInstance } from 'fastify'
import type { AppPrisma } from '../prisma.ts'

export function healthRoutes(app: FastifyInstance, prisma: AppPrisma, redis: boolean): void {
  app.get('/health', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    const cache = {
      tiers: redis ? 'redis+memory' : 'memory',
      // With Redis: the invalidation bus is subscribed, so local hits need no round trip.
      ready: prisma.$cache.ready,
      // Foreign keys and referential actions were read from the schema.
      precise: prisma.$cache.precise,
    }
    try {
      await prisma.$queryRaw`SELECT 1`
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', database: (error as Error).message, cache })
    }
    return { status: 'ok', database: 'up', cache }
  })
}
