// GET /users/:id (with its profile) and GET /users/:id/posts (with their tags).
import type { FastifyInstance } from 'fastify'
import { postDto, userDto } from '../dto.ts'
import type { AppPrisma } from '../prisma.ts'

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: 2147483647 } },
} as const

interface IdParams {
  Params: { id: number }
}

export function userRoutes(app: FastifyInstance, prisma: AppPrisma): void {
  // One cached read: User, and Profile through `include`. A write to either changes the ETag; a write to Post does not.
  app.get<IdParams>(
    '/users/:id',
    { schema: { params: idParams }, config: { dependsOn: { models: ['User', 'Profile'] } } },
    async (request, reply) => {
      const user = await prisma.user.findUnique({ where: { id: request.params.id }, include: { profile: true } })
      if (!user) return reply.code(404).send({ error: 'user not found' })
      return userDto(user)
    },
  )

  // One cached read through the user, so that an unknown user is a 404 rather than an empty list: depends on User,
  // Post (the relation) and Tag (the posts' tags).
  app.get<IdParams>(
    '/users/:id/posts',
    { schema: { params: idParams }, config: { dependsOn: { models: ['User', 'Post', 'Tag'] } } },
    async (request, reply) => {
      const user = await prisma.user.findUnique({
        where: { id: request.params.id },
        select: { id: true, posts: { include: { tags: true }, orderBy: { id: 'asc' } } },
      })
      if (!user) return reply.code(404).send({ error: 'user not found' })
      return user.posts.map(postDto)
    },
  )
}
