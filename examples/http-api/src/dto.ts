// What the API returns: plain JSON. Prisma's BigInt (karma) and Decimal (balance) do not survive JSON.stringify as
// numbers, so they are sent as strings; Bytes (avatar) are left out.
import type { Post, Profile, Tag, User } from '../../../generated/postgres/client/client.ts'

export interface PostDto {
  id: number
  title: string
  published: boolean
  views: number
  authorId: number | null
  tags: string[]
}

export function postDto(post: Post & { tags: Tag[] }): PostDto {
  return {
    id: post.id,
    title: post.title,
    published: post.published,
    views: post.views,
    authorId: post.authorId,
    tags: post.tags.map((t) => t.name).sort(),
  }
}

export function userDto(user: User & { profile: Profile | null }) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    balance: user.balance.toString(),
    karma: user.karma.toString(),
    prefs: user.prefs,
    createdAt: user.createdAt.toISOString(),
    invitedById: user.invitedById,
    profile: user.profile && { bio: user.profile.bio },
  }
}
