// The scene of the registry adversaries (registry-loss, registry-keep): a writer whose scheme registry another
// instance recreates while the writer's bus is held back.
import { expect } from 'vitest'
import type { FaultProxy } from '../support/fault-proxy.ts'
import type { CachedClient, Setup } from '../support/matrix.ts'

let seq = 0

/** Two authors with a post each; `list` reads the first one's posts, `oracle` its first title in the database. */
export async function twoAuthors(s: Setup) {
  const author = await s.raw.user.create({ data: { email: `reg${++seq}@x` } })
  const elsewhere = await s.raw.user.create({ data: { email: `rego${seq}@x` } })
  const post = await s.raw.post.create({ data: { title: 'before', authorId: author.id } })
  const other = await s.raw.post.create({ data: { title: 'other', authorId: elsewhere.id } })
  const list = { where: { authorId: author.id } }
  const oracle = async () => (await s.raw.post.findMany(list))[0]?.title
  return { post, other, list, oracle }
}

/**
 * The Post scheme registry is evicted, and `b`'s write to `other` recreates it (bumping `g:Post`, published on the
 * bus) while `bus`, the writer's bus connection, is frozen: the writer has not heard of it. Leaves `bus` frozen.
 */
export async function registryRecreated(s: Setup, b: CachedClient, other: { id: number }, bus: FaultProxy) {
  await s.redis?.del(`{${s.prefix}}:s:Post`)
  bus.frozen = true
  await b.post.update({ where: { id: other.id }, data: { title: 'other2' } })
  expect(await s.redis?.smembers(`{${s.prefix}}:s:Post`)).toEqual(['#'])
}
