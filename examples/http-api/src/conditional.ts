// Conditional GETs from Strata's versions. A GET route declares the models its response is built from:
//
//   app.get('/users/:id', { config: { dependsOn: { models: ['User', 'Profile'] } } }, handler)
//
// and, before its handler runs, `$cache.versionTag` turns the current versions of those models into an ETag. A
// request whose If-None-Match carries it gets 304 at once: no SQL, no cache lookup, no handler. The token changes
// whenever one of the models is written through Prisma (by this process or, with Redis, any other), so a client
// holding an old ETag gets the new body.
//
// Order matters: the tag is read BEFORE the handler reads the data. A write landing in between makes the body
// newer than its tag, and the client's next request (old tag, new versions) simply gets a 200. Read the other way
// round, a body from before a write could be labelled with the tag from after it, and be confirmed by 304s until
// the next write.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AppPrisma } from './prisma.ts'

/** The models (and Strata tags) a response depends on. They must cover every model its queries read. */
export interface DependsOn {
  models: string[]
  tags?: string[]
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Makes the route conditional: ETag from the versions of these models, 304 on If-None-Match. */
    dependsOn?: DependsOn
  }
}

/**
 * Every response revalidates (max-age=0), and a revalidation that matches costs neither the database nor the cache.
 * A positive max-age would let a browser answer from its own copy after the user's own POST or PATCH: Strata
 * guarantees read-your-writes on the server, and a max-age would give that away on the client. `private`: the
 * responses are per user in a real app; a shared cache should not keep them.
 */
export const cacheControl = 'private, max-age=0, must-revalidate'

/**
 * Bumped when the shape of the JSON changes, so that tags handed out by an older deployment never confirm a body of
 * the new one (the data may be the same; its representation is not).
 */
const representation = 'v1'

/** True when the If-None-Match header lists `etag` (weak comparison, RFC 9110 §13.1.2). */
export function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '')
  const wanted = opaque(etag)
  // `*` asks "does any representation exist?"; answering it needs the data, so it is treated as no match (200).
  return header.split(',').some((tag) => opaque(tag) === wanted)
}

export function conditionalGets(app: FastifyInstance, prisma: AppPrisma): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const dependsOn = request.routeOptions.config.dependsOn
    if (!dependsOn || (request.method !== 'GET' && request.method !== 'HEAD')) return
    const tag = await prisma.$cache.versionTag(dependsOn)
    reply.header('cache-control', cacheControl)
    // Redis cannot tell the versions (it is down): no ETag, so no 304; the handler answers from the database.
    if (tag === undefined) return
    const etag = `W/"${representation}.${tag}"`
    reply.header('etag', etag)
    if (ifNoneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send()
  })

  // An error or a 404 is not the representation the ETag names.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode >= 300 && reply.statusCode !== 304) reply.removeHeader('etag')
    return payload
  })
}
