// GET /posts?tag=..., POST /posts, PATCH /posts/:id, DELETE /posts/:id. Writes need no cache code: Strata bumps
// the versions of every model a write touches (Post, Tag through the tags relation, Comment through the cascade of
// a delete), which changes the ETags of the GET routes built from them.
import type { FastifyInstance } from 'fastify'
import { postDto } from '../dto.ts'
import type { AppPrisma } from '../prisma.ts'

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: 2147483647 } },
} as const

const tagList = {
  type: 'array',
  maxItems: 10,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 50 },
} as const

const title = { type: 'string', minLength: 1, maxLength: 200 } as const

interface ListQuery {
  Querystring: { tag?: string; limit: number }
}
interface CreateBody {
  Body: { title: string; authorId?: number; published?: boolean; tags?: string[] }
}
interface UpdateBody {
  Params: { id: number }
  Body: { title?: string; published?: boolean; views?: number; tags?: string[] }
}
interface IdParams {
  Params: { id: number }
}

const connectOrCreate = (names: string[]) => names.map((name) => ({ where: { name }, create: { name } }))

export function postRoutes(app: FastifyInstance, prisma: AppPrisma): void {
  // Depends on Post and on Tag (the relation filter and the included tags).
  app.get<ListQuery>(
    '/posts',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            tag: { type: 'string', minLength: 1, maxLength: 50 },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
          },
        },
      },
      config: { dependsOn: { models: ['Post', 'Tag'] } },
    },
    async (request) => {
      const { tag, limit } = request.query
      const posts = await prisma.post.findMany({
        where: tag === undefined ? {} : { tags: { some: { name: tag } } },
        include: { tags: true },
        orderBy: { id: 'asc' },
        take: limit,
      })
      return posts.map(postDto)
    },
  )

  app.post<CreateBody>(
    '/posts',
    {
      schema: {
        body: {
          type: 'object',
          required: ['title'],
          additionalProperties: false,
          properties: {
            title,
            authorId: { type: 'integer', minimum: 1, maximum: 2147483647 },
            published: { type: 'boolean' },
            tags: tagList,
          },
        },
      },
    },
    async (request, reply) => {
      const { tags = [], ...data } = request.body
      const post = await prisma.post.create({
        data: { ...data, tags: { connectOrCreate: connectOrCreate(tags) } },
        include: { tags: true },
      })
      return reply.code(201).header('location', `/posts/${post.id}`).send(postDto(post))
    },
  )

  app.patch<UpdateBody>(
    '/posts/:id',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { title, published: { type: 'boolean' }, views: { type: 'integer', minimum: 0 }, tags: tagList },
        },
      },
    },
    async (request) => {
      const { tags, ...data } = request.body
      const post = await prisma.post.update({
        where: { id: request.params.id },
        // `tags` replaces the post's tags: disconnect them all, then connect (creating what is missing).
        data: tags === undefined ? data : { ...data, tags: { set: [], connectOrCreate: connectOrCreate(tags) } },
        include: { tags: true },
      })
      return postDto(post)
    },
  )

  app.delete<IdParams>('/posts/:id', { schema: { params: idParams } }, async (request, reply) => {
    await prisma.post.delete({ where: { id: request.params.id } })
    return reply.code(204).send()
  })
}
