// Type-level tests, checked by `pnpm typecheck`: the extended client keeps Prisma's types (results, select, the
// fluent API, transactions) and types the per-query `cache` argument. Every @ts-expect-error must be an error.
import { cache } from 'prisma-strata'
import { PrismaClient } from '../../generated/sqlite/client/client.ts'

const p = new PrismaClient({} as never).$extends(cache())
async function main() {
  const u = await p.user.findUnique({ where: { id: 1 }, cache: false })
  const name: string | null | undefined = u?.name
  const posts = await p.user.findUnique({ where: { id: 1 } }).posts()
  const t: string | undefined = posts?.[0]?.title
  // @ts-expect-error posts may be null (findUnique)
  posts.length
  const posts2 = await p.user.findUniqueOrThrow({ where: { id: 1 } }).posts({ select: { id: true } })
  const n: number = posts2.length
  // @ts-expect-error title not selected
  posts2[0]?.title
  const prof = await p.post
    .findFirstOrThrow({ where: { id: 1 } })
    .author()
    .profile()
  const bio: string | undefined = prof?.bio
  // @ts-expect-error author is optional so the chain may be null
  prof.bio
  const sel = await p.user.findUnique({ where: { id: 1 }, select: { email: true } })
  // @ts-expect-error name not selected
  sel?.name
  const e: string | undefined = sel?.email
  // @ts-expect-error cache.ttl must be a number
  await p.user.findMany({ cache: { ttl: '1' } })
  await p.post.findMany({ cacheStrategy: { ttl: 60, swr: 10, tags: ['feed'] } })
  // @ts-expect-error cacheStrategy.ttl must be a number (Accelerate's shape)
  await p.post.findMany({ cacheStrategy: { ttl: '1' } })
  const c: number = await p.user.count({ cache: { tags: ['x'] } })
  const g = await p.post.groupBy({ by: ['authorId'], _count: true })
  const gc: number = g[0]?._count ?? 0
  await p.$transaction(async (tx) => {
    const inTx = await tx.user.findMany({ cache: false })
    return inTx.length
  })
  const [a, b] = await p.$transaction([p.user.findMany(), p.user.count()])
  const an: number = a.length + b
  p.$cache.stats().hitRatio
  return [name, t, e, n, bio, c, gc, an]
}
export { main }
