// A small, realistic, reproducible data set: users (most with a profile), posts with tags, comments.
import type { PrismaClient } from '../../generated/sqlite/client/client.ts'

export interface SeedSizes {
  users: number
  posts: number
  comments: number
}

export interface Seeded extends SeedSizes {
  tags: string[]
  profiles: number
}

/** A seeded pseudo-random generator (mulberry32): the same data and the same workload on every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const first = ['Ada', 'Alan', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Radia', 'Edsger', 'Frances']
const last = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Perlman']
const tagNames = ['prisma', 'redis', 'sqlite', 'postgres', 'caching', 'typescript', 'node', 'performance', 'testing']
const openings = [
  'Notes on',
  'Getting started with',
  'Why I like',
  'Debugging',
  'Scaling',
  'A week with',
  'Lessons from',
]
const phrases = ['Great write-up!', 'This saved my afternoon.', 'Could you share the config?', 'Interesting, thanks.']

export async function seed(prisma: PrismaClient, sizes: SeedSizes, rng = random(42)): Promise<Seeded> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T
  const int = (below: number) => 1 + Math.floor(rng() * below) // an id in 1..below

  await prisma.tag.createMany({ data: tagNames.map((name) => ({ name })) })
  await prisma.user.createMany({
    data: Array.from({ length: sizes.users }, (_, i) => ({
      email: `user${i + 1}@example.com`,
      name: `${pick(first)} ${pick(last)}`,
      role: i % 50 === 0 ? ('ADMIN' as const) : ('USER' as const),
      karma: BigInt(Math.floor(rng() * 10_000)),
    })),
  })
  // Three users in four have a profile; user 1 always does.
  const withProfile = Array.from({ length: sizes.users }, (_, i) => i + 1).filter((id) => id % 4 !== 0)
  await prisma.profile.createMany({
    data: withProfile.map((userId) => ({ userId, bio: `${pick(openings)} ${pick(tagNames)}, mostly.` })),
  })

  // Posts connect to tags (a many-to-many relation), which createMany cannot do: one transaction of creates.
  await prisma.$transaction(
    async (tx) => {
      for (let i = 1; i <= sizes.posts; i++) {
        const tags = [...new Set([int(tagNames.length), int(tagNames.length)])].map((id) => ({ id }))
        await tx.post.create({
          data: {
            title: `${pick(openings)} ${pick(tagNames)} #${i}`,
            published: rng() < 0.8,
            views: Math.floor(rng() * 5000),
            authorId: int(sizes.users),
            tags: { connect: tags },
          },
        })
      }
    },
    { timeout: 120_000 },
  )
  await prisma.comment.createMany({
    data: Array.from({ length: sizes.comments }, () => ({
      body: pick(phrases),
      postId: int(sizes.posts),
      authorId: int(sizes.users),
    })),
  })
  return { ...sizes, tags: tagNames, profiles: withProfile.length }
}
