// The HTTP API, without listening: `buildApp({ prisma })` returns a Fastify instance for `listen` or `inject`.
import Fastify, { type FastifyInstance } from 'fastify'
import { strataMetrics } from 'prisma-strata/prometheus'
import { Registry } from 'prom-client'
import { Prisma } from '../../../generated/postgres/client/client.ts'
import { conditionalGets } from './conditional.ts'
import type { AppPrisma } from './prisma.ts'
import { healthRoutes } from './routes/health.ts'
import { metricsRoutes } from './routes/metrics.ts'
import { postRoutes } from './routes/posts.ts'
import { userRoutes } from './routes/users.ts'

export interface AppOptions {
  /** The cached client (`createPrisma`). The app does not close it: its owner does. */
  prisma: AppPrisma
  /**
   * The registry `createPrisma({ registry })` registered Strata's metrics in. Absent: a new one, in which Strata's
   * counters and hit ratios are registered here (without latencies, which need the hooks given to `cache()`).
   */
  registry?: Registry
  /** Whether Strata was given Redis (reported by /health). */
  redis?: boolean
  /** Fastify's logger. Default: off. */
  logger?: boolean
}

/** Prisma's errors that are the client's fault, as HTTP statuses. */
const prismaStatus: Record<string, number> = {
  P2025: 404, // the record to update or delete does not exist
  P2002: 409, // unique constraint (a post title is unique per author)
  P2003: 422, // foreign key (authorId of no user)
}

export function buildApp({ prisma, registry, redis = false, logger = false }: AppOptions): FastifyInstance {
  const app = Fastify({ logger })
  if (!registry) {
    registry = new Registry()
    strataMetrics({ registry }).observe(prisma)
  }

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof Prisma.PrismaClientKnownRequestError && prismaStatus[error.code]) {
      const status = prismaStatus[error.code] as number
      return reply.code(status).send({ error: error.message.split('\n').at(-1)?.trim(), code: error.code })
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500
    if (status >= 500) request.log.error(error)
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : (error as Error).message })
  })

  conditionalGets(app, prisma)
  userRoutes(app, prisma)
  postRoutes(app, prisma)
  metricsRoutes(app, registry)
  healthRoutes(app, prisma, redis)
  return app
}
