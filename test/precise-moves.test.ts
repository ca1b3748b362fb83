// A row moved to another parent (a post to another author, `data: { authorId }`) bumps the predicates of its old
// and new key only: the key's old value is read first and the update made conditional on it. Other authors' cached
// lists and counts stay hits; if the key moves between that read and the update, it is read again (a few times,
// then the update happens as asked) and every read stays equal to the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { holdNextSelect } from './support/hold-statement.ts'
import { matrix, type Setup, setupCase } from './support/matrix.ts'

describe.each(matrix)('precise moves: $provider / $tiers', (c) => {
  let s: Setup
  let hold: ((sql: string) => Promise<void> | undefined) | undefined
  let seq = 0

  beforeAll(async () => {
    s = await setupCase(c, {}, { afterQuery: (sql) => hold?.(sql) })
  })
  afterAll(() => s?.close())

  const cached = () => s.prisma as unknown as Setup['raw']

  async function authors() {
    const n = ++seq
    const users = []
    for (const name of ['a', 'b', 'c'])
      users.push(await s.raw.user.create({ data: { email: `mv-${name}${n}@x`, name } }))
    const [a, b, third] = users as [(typeof users)[0], (typeof users)[0], (typeof users)[0]]
    const post = await s.raw.post.create({ data: { title: 'moving', authorId: a.id } })
    await s.raw.post.create({ data: { title: 'stays', authorId: third.id } })
    return { a, b, third, post }
  }

  const reads = (client: Setup['raw'], id: number) =>
    Promise.all([
      client.post.findMany({ where: { authorId: id }, orderBy: { id: 'desc' }, take: 20 }),
      client.user.findUnique({ where: { id }, include: { _count: { select: { posts: true } } } }),
    ])

  it("a move makes stale the old and new author's reads, not a third author's", async () => {
    const { a, b, third, post } = await authors()
    for (const id of [a.id, b.id, third.id]) await reads(cached(), id)
    await s.prisma.post.update({ where: { id: post.id }, data: { authorId: b.id, title: 'moved' } })
    s.counting.reset()
    expect(await reads(cached(), third.id)).toEqual(await reads(s.raw, third.id))
    // MySQL updates in several statements: the key's old value is not read, and the move bumps every author.
    expect(s.counting.count()).toBe(c.provider === 'mysql' ? 2 : 0)
    for (const id of [a.id, b.id]) expect(await reads(cached(), id)).toEqual(await reads(s.raw, id))
  })

  it("a key set to the value it already holds is no move: the author's count stays cached, the list is refreshed", async () => {
    const { a, post } = await authors()
    await reads(cached(), a.id)
    await s.prisma.post.update({ where: { id: post.id }, data: { authorId: a.id, title: 'same author' } })
    s.counting.reset()
    const [posts, user] = await reads(cached(), a.id)
    expect([posts, user]).toEqual(await reads(s.raw, a.id))
    expect(posts.map((p) => p.title)).toContain('same author')
    // The list's content changed (one statement); the count's membership did not (none), except on MySQL, where
    // the key's old value is not read and every author's reads go.
    expect(s.counting.count()).toBe(c.provider === 'mysql' ? 2 : 1)
  })

  it("a key another write moved between its read and the update is read again: a fourth author's reads stay hits", async () => {
    const { a, b, third, post } = await authors()
    const fourth = await s.raw.user.create({ data: { email: `mv-d${seq}@x`, name: 'd' } })
    await s.raw.post.create({ data: { title: 'elsewhere', authorId: fourth.id } })
    for (const id of [a.id, b.id, third.id, fourth.id]) await reads(cached(), id)
    const held = holdNextSelect('Post')
    hold = held.hook
    const moving = s.prisma.post.update({ where: { id: post.id }, data: { authorId: b.id } }).then((r) => r)
    await held.held // the old key (a) was read; now another move of this process takes the post to the third author
    hold = undefined
    await s.prisma.post.update({ where: { id: post.id }, data: { authorId: third.id } })
    held.release()
    expect((await moving).authorId).toBe(b.id)
    s.counting.reset()
    expect(await reads(cached(), fourth.id)).toEqual(await reads(s.raw, fourth.id))
    // MySQL updates in several statements: the key's old value is not read, and a move bumps every author.
    expect(s.counting.count()).toBe(c.provider === 'mysql' ? 2 : 0)
    for (const id of [a.id, b.id, third.id]) expect(await reads(cached(), id)).toEqual(await reads(s.raw, id))
  })

  it('a key moved by another write between its read and the update leaves no stale read', async () => {
    const { a, b, third, post } = await authors()
    for (const id of [a.id, b.id, third.id]) await reads(cached(), id)
    const held = holdNextSelect('Post')
    hold = held.hook
    const moving = s.prisma.post.update({ where: { id: post.id }, data: { authorId: b.id } }).then((r) => r)
    await held.held // the old key (a) was read; now another write moves the post to the third author
    hold = undefined
    await s.raw.post.update({ where: { id: post.id }, data: { authorId: third.id } })
    // Unseen by the cache (no bump); a read of the third author now caches the post among its posts.
    await s.prisma.$cache.invalidate({ models: ['Post'] })
    expect((await reads(cached(), third.id))[0].map((p) => p.id)).toContain(post.id)
    held.release()
    expect((await moving).authorId).toBe(b.id) // the update happened as asked
    for (const id of [a.id, b.id, third.id]) expect(await reads(cached(), id)).toEqual(await reads(s.raw, id))
  })
})
