// The operations of the app mix: four reads and four writes an application makes on posts, users and comments,
// their shares, and the seeded sequence of them. Posts and users are drawn from Zipf distributions, so a few posts
// and authors are hot and the rest form a long tail.
import { Rng } from '../../../../test/support/differential/random.ts'
import { zipf } from './zipf.ts'

/** The calls the app mix makes, on any client (plain Prisma or extended by a cache). */
export interface AppClient {
  post: {
    findUnique(args: object): PromiseLike<unknown>
    findMany(args: object): PromiseLike<unknown[]>
    update(args: object): PromiseLike<unknown>
    create(args: object): PromiseLike<unknown>
  }
  comment: {
    findMany(args: object): PromiseLike<unknown[]>
    create(args: object): PromiseLike<unknown>
  }
  user: { findUnique(args: object): PromiseLike<unknown> }
}

/** One operation: its kind, the post and the user it names (ids), and a number unique in its run (titles, bodies). */
export interface Op {
  kind: KindName
  post: number
  user: number
  n: number
}

export interface Kind {
  label: string
  write: boolean
  /** Share of all operations. */
  share: number
  /** A read's model and operation, as the cache's statistics name them. */
  counted?: readonly [string, string]
  run(client: AppClient, op: Op): PromiseLike<unknown>
}

// 90% reads, 10% writes. Reads: mostly point reads of a post, then the pages an author's profile shows.
export const kinds = {
  'post-with-author': {
    label: 'post + author',
    write: false,
    share: 0.36,
    counted: ['Post', 'findUnique'],
    run: (c, o) => c.post.findUnique({ where: { id: o.post }, include: { author: true } }),
  },
  'user-posts': {
    label: "user's posts (20)",
    write: false,
    share: 0.225,
    counted: ['Post', 'findMany'],
    run: (c, o) => c.post.findMany({ where: { authorId: o.user }, orderBy: { id: 'desc' }, take: 20 }),
  },
  'post-comments': {
    label: "post's comments",
    write: false,
    share: 0.18,
    counted: ['Comment', 'findMany'],
    run: (c, o) => c.comment.findMany({ where: { postId: o.post } }),
  },
  'user-post-count': {
    label: 'user + _count posts',
    write: false,
    share: 0.135,
    counted: ['User', 'findUnique'],
    run: (c, o) => c.user.findUnique({ where: { id: o.user }, include: { _count: { select: { posts: true } } } }),
  },
  'update-post': {
    label: 'update post',
    write: true,
    share: 0.04,
    // The title keeps the post id: (authorId, title) is unique, and a moved post must not collide.
    run: (c, o) =>
      c.post.update({
        where: { id: o.post },
        data: { title: `Post ${o.post} (edit ${o.n})`, views: { increment: 1 } },
      }),
  },
  'create-comment': {
    label: 'create comment',
    write: true,
    share: 0.03,
    run: (c, o) => c.comment.create({ data: { body: `Comment ${o.n}`, postId: o.post, authorId: o.user } }),
  },
  'create-post': {
    label: 'create post',
    write: true,
    share: 0.02,
    run: (c, o) => c.post.create({ data: { title: `New post ${o.n}`, published: true, authorId: o.user } }),
  },
  'move-post': {
    label: 'move post to another author',
    write: true,
    share: 0.01,
    run: (c, o) => c.post.update({ where: { id: o.post }, data: { authorId: o.user } }),
  },
} satisfies Record<string, Kind>

export type KindName = keyof typeof kinds
export const kindNames = Object.keys(kinds) as KindName[]

/**
 * `n` operations from `seed`: kinds by their shares, posts Zipf(s) over ids 1..posts, users Zipf(s) over ids
 * 1..users (the lowest ids are the hottest). `first` numbers them, so every run of a contender has its own numbers.
 */
export function appOperations(
  n: number,
  sizes: { posts: number; users: number; s: number },
  seed: number,
  first: number,
): Op[] {
  const post = zipf(sizes.posts, sizes.s)
  const user = zipf(sizes.users, sizes.s)
  const rng = new Rng(seed)
  const choices = kindNames.map((name) => [kinds[name].share, name] as const)
  return Array.from({ length: n }, (_, i) => ({
    kind: rng.weighted(choices),
    post: post(rng.next()) + 1,
    user: user(rng.next()) + 1,
    n: first + i,
  }))
}
