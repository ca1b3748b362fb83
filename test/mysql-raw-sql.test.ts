// Raw SQL in MySQL's dialect (backticks, multi-table UPDATE/DELETE) keeps the cache correct on MariaDB.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { matrix, type Setup, setupCase } from './support/matrix.ts'

describe.each(matrix.filter((c) => c.provider === 'mysql'))('raw SQL on MySQL: $provider / $tiers', (c) => {
  let s: Setup
  beforeEach(async () => {
    s = await setupCase(c)
    await s.raw.user.create({
      data: {
        id: 1,
        email: 'a@x',
        posts: { create: { id: 1, title: 't' } },
        comments: { create: { body: 'b', postId: 1 } },
      },
    })
  })
  afterEach(() => s?.close())

  const users = (p: Setup['raw']) => p.user.findMany({ orderBy: { id: 'asc' } })
  const comments = (p: Setup['raw']) => p.comment.findMany({ orderBy: { id: 'asc' } })
  const cached = () => s.prisma as unknown as Setup['raw']

  it('a statement in backticks keeps every read equal to the database', async () => {
    await users(cached())
    await comments(cached())
    await s.prisma.$executeRaw`UPDATE \`Comment\` SET \`body\` = ${'raw'}`
    expect(await users(cached())).toEqual(await users(s.raw))
    expect(await comments(cached())).toEqual(await comments(s.raw))
  })

  it('a statement in backticks leaves the models it does not write cached', async () => {
    await users(cached())
    await s.prisma.$executeRaw`UPDATE \`Comment\` SET \`body\` = ${'raw'}`
    s.counting.reset()
    expect(await users(cached())).toEqual(await users(s.raw))
    expect(s.counting.count()).toBe(0)
  })

  it('a multi-table UPDATE invalidates every table it names', async () => {
    await users(cached())
    await s.prisma.$executeRawUnsafe(
      "UPDATE `Post` JOIN `User` ON `User`.`id` = `Post`.`authorId` SET `User`.`name` = 'joined'",
    )
    expect(await users(cached())).toEqual(await users(s.raw))
  })

  it('a multi-table DELETE invalidates every table it deletes from', async () => {
    await comments(cached())
    await s.prisma.$executeRawUnsafe('DELETE FROM `Tag`, `Comment` USING `Tag` RIGHT JOIN `Comment` ON 1 = 1')
    expect(await comments(cached())).toEqual(await comments(s.raw))
  })
})
