// Raw SQL that hides its write from a naive reading (an apostrophe in a comment, dollar quotes, escaped strings, a
// second data-modifying target, every table of a TRUNCATE, a function that writes) still invalidates what it
// changes: after it runs through the cached client, cached reads equal an uncached client's.
import { beforeEach, describe, expect, it } from 'vitest'
import { casePerTest } from './support/case-per-test.ts'
import { matrix, type RawClient, type Setup } from './support/matrix.ts'

type Statement = [name: string, run: (p: Setup['prisma']) => Promise<unknown>]

// SQLite and PostgreSQL.
const common: Statement[] = [
  [
    '$queryRaw after a comment with an apostrophe',
    (p) => p.$queryRawUnsafe(`-- don't\nUPDATE "User" SET "name" = 'x' RETURNING "id"`),
  ],
  [
    '$executeRaw with a placeholder after a comment with an apostrophe',
    (p) => p.$executeRaw`-- don't
DELETE FROM "Comment" WHERE "id" = ${1}`,
  ],
]

// The same on MySQL: backticks, and no RETURNING on UPDATE.
const mysqlCommon: Statement[] = [
  [
    '$queryRaw after a comment with an apostrophe',
    (p) => p.$queryRawUnsafe("-- don't\nUPDATE `User` SET `name` = 'x'"),
  ],
  [
    '$executeRaw with a placeholder after a comment with an apostrophe',
    (p) => p.$executeRaw`-- don't
DELETE FROM \`Comment\` WHERE \`id\` = ${1}`,
  ],
]

// MySQL's syntax: each form its parser reads, with what referential actions reach from it.
const mysqlOnly: Statement[] = [
  [
    '$queryRaw after a # comment with an apostrophe',
    (p) => p.$queryRawUnsafe("# don't\nUPDATE `Post` SET `views` = 5"),
  ],
  [
    '$executeRaw after a string with an escaped quote',
    (p) => p.$executeRawUnsafe("/* it's */ UPDATE `Comment` SET `body` = 'it\\'s -- x' WHERE `id` = 1"),
  ],
  [
    'a multi-table UPDATE setting both tables',
    (p) =>
      p.$executeRawUnsafe("UPDATE `Post` p JOIN `User` u ON u.`id` = p.`authorId` SET p.`views` = 3, u.`name` = 'j'"),
  ],
  ['a multi-table DELETE', (p) => p.$executeRawUnsafe('DELETE s, c FROM `Stamp` s JOIN `Comment` c ON 1 = 1')],
  [
    'DELETE ... USING',
    (p) => p.$executeRawUnsafe('DELETE FROM `Item` USING `Item` JOIN `Crate` ON `Crate`.`boxId` = `Item`.`crateBoxId`'),
  ],
  ['a DELETE that cascades', (p) => p.$executeRawUnsafe('DELETE FROM `Box`')],
  [
    'INSERT ... ON DUPLICATE KEY UPDATE',
    (p) =>
      p.$executeRawUnsafe(
        "INSERT INTO `Stamp` (`id`, `country`, `passportId`) VALUES (1, 'de', 1) ON DUPLICATE KEY UPDATE `country` = VALUES(`country`)",
      ),
  ],
  [
    'INSERT ... SELECT',
    (p) =>
      p.$executeRawUnsafe(
        'INSERT INTO `Stamp` (`id`, `country`, `passportId`) SELECT 2, `number`, `personId` FROM `Passport`',
      ),
  ],
  [
    'REPLACE',
    (p) => p.$executeRawUnsafe("REPLACE INTO `Comment` (`id`, `body`, `postId`, `authorId`) VALUES (1, 'r', 1, 1)"),
  ],
  ['TRUNCATE TABLE', (p) => p.$executeRawUnsafe('TRUNCATE TABLE `Stamp`')],
  ['$queryRaw of SELECT ... FOR UPDATE', (p) => p.$queryRawUnsafe('SELECT COUNT(*) FROM `User` FOR UPDATE')],
]

// PostgreSQL's syntax.
const postgresOnly: Statement[] = [
  [
    '$queryRaw after a dollar-quoted string',
    (p) => p.$queryRawUnsafe(`WITH t AS (SELECT $$it's$$ AS a) UPDATE "User" SET "name" = 'z' RETURNING "id"`),
  ],
  [
    '$queryRaw after an escaped string',
    (p) => p.$queryRawUnsafe(`WITH t AS (SELECT E'\\'' AS a) UPDATE "User" SET "name" = 'z' RETURNING "id"`),
  ],
  [
    'both targets of a data-modifying CTE',
    (p) =>
      p.$queryRawUnsafe(
        `WITH a AS (UPDATE "Post" SET "views" = 7 RETURNING "id") DELETE FROM "Comment" WHERE "postId" IN (SELECT "id" FROM a) RETURNING "id"`,
      ),
  ],
  ['every table of TRUNCATE ... CASCADE', (p) => p.$executeRawUnsafe('TRUNCATE "Box", "Person" CASCADE')],
  ['$queryRaw of a SELECT calling a function that writes', (p) => p.$queryRawUnsafe('SELECT rename_users()')],
]

describe.each(matrix)('raw SQL: $provider / $tiers', (c) => {
  const scene = casePerTest(c)
  let s: Setup
  beforeEach(async () => {
    s = scene.s
    await s.raw.user.create({ data: { id: 1, email: 'a@x', posts: { create: [{ id: 1, title: 'p1' }] } } })
    await s.raw.comment.create({ data: { id: 1, body: 'c', postId: 1, authorId: 1 } })
    await s.raw.box.create({
      data: { id: 1, label: 'b', crates: { create: [{ id: 1, items: { create: [{ id: 1, name: 'i' }] } }] } },
    })
    await s.raw.person.create({
      data: { id: 1, name: 'p', passport: { create: { number: 'n', stamps: { create: [{ id: 1, country: 'fr' }] } } } },
    })
    if (c.provider === 'postgres') {
      await s.raw.$executeRawUnsafe(
        `CREATE OR REPLACE FUNCTION rename_users() RETURNS int LANGUAGE sql AS $$ UPDATE "User" SET "name" = 'f'; SELECT 1 $$`,
      )
    }
  })

  const reads = (p: RawClient) =>
    Promise.all([
      p.user.findMany({ orderBy: { id: 'asc' } }),
      p.post.findMany({ orderBy: { id: 'asc' }, include: { _count: true } }),
      p.comment.findMany({ orderBy: { id: 'asc' } }),
      p.item.findMany({ orderBy: { id: 'asc' } }),
      p.crate.findMany({ orderBy: { id: 'asc' } }),
      p.passport.findMany({ include: { stamps: true } }),
      p.stamp.count(),
    ])

  const statements = { sqlite: common, postgres: [...common, ...postgresOnly], mysql: [...mysqlCommon, ...mysqlOnly] }[
    c.provider
  ]
  it.each(statements)('%s', async (_name, run) => {
    const cached = s.prisma as unknown as RawClient
    expect(await reads(cached)).toEqual(await reads(s.raw)) // fills the cache
    await run(s.prisma)
    expect(await reads(cached)).toEqual(await reads(s.raw))
  })
})
