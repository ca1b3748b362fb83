// A few users, profiles, posts and tags, for the demo server and the tests.
import type { AppPrisma } from './prisma.ts'

export interface Seeded {
  /** Users by name: alice and bob have a profile, carol has none. */
  users: Record<'alice' | 'bob' | 'carol', number>
  posts: number[]
}

export async function seed(prisma: AppPrisma, suffix = ''): Promise<Seeded> {
  const user = (name: string, bio?: string, role: 'USER' | 'ADMIN' = 'USER') =>
    prisma.user.create({
      data: {
        email: `${name}${suffix}@example.com`,
        name,
        role,
        ...(bio ? { profile: { create: { bio } } } : {}),
      },
    })
  const alice = await user('alice', 'Writes about caches.', 'ADMIN')
  const bob = await user('bob', 'Reads everything twice.')
  const carol = await user('carol')
  const posts: number[] = []
  const drafts: [number, string, string[]][] = [
    [alice.id, `Versions, not clocks${suffix}`, ['cache', 'prisma']],
    [alice.id, `ETags from versions${suffix}`, ['cache', 'http']],
    [bob.id, `Reading Prisma's query plans${suffix}`, ['prisma']],
    [carol.id, `Notes on conditional requests${suffix}`, ['http']],
  ]
  for (const [authorId, title, tags] of drafts) {
    const post = await prisma.post.create({
      data: {
        title,
        authorId,
        published: true,
        tags: { connectOrCreate: tags.map((name) => ({ where: { name }, create: { name } })) },
      },
    })
    posts.push(post.id)
  }
  return { users: { alice: alice.id, bob: bob.id, carol: carol.id }, posts }
}
