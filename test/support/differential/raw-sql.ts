// The raw SQL statements the differential test sends, each in the three forms it can take: `$executeRawUnsafe` with
// the provider's placeholders (SQLite and MySQL `?`, PostgreSQL `$1`), the tagged `$executeRaw` template, and
// `$queryRawUnsafe` with `RETURNING` (SQLite >= 3.35 and PostgreSQL; MySQL has none, so the bare statement).
// Tables are the model names, quoted: "double quotes", backticks on MySQL, where a few statements need a form of
// their own (string concatenation, no WITH before DELETE, no subquery on the table a statement changes).
// Statements reach referential actions on purpose: deleting a User cascades to Profile, Comment and Membership and
// sets Post.authorId and User.invitedById to NULL; changing User.id cascades to every key pointing at it.
import type { Provider } from '../../../prisma/database.ts'
import type { RawSpec } from './steps.ts'

/** The template-literal client method, typed loosely: every client (cached, raw, transaction) has it. */
type TaggedClient = {
  $executeRaw(strings: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>
}

type Values = Array<string | number>

interface Statement {
  /** What each value is, for the generator. */
  params: ReadonlyArray<'user' | 'post' | 'team' | 'text' | 'small'>
  /** The databases whose syntax it uses (both when absent). */
  providers?: readonly Provider[]
  /** The forms it can take (all three when absent; `query` appends `RETURNING`). */
  forms?: ReadonlyArray<RawSpec['form']>
  sql(p: (n: number) => string): string
  tagged(client: TaggedClient, v: Values): PromiseLike<number>
  /** MySQL's form, with backticks, where swapping the quotes of `sql` is not enough. */
  mysql?: (p: (n: number) => string) => string
  /**
   * It locks its tables against every reader until its transaction ends (PostgreSQL's TRUNCATE takes ACCESS
   * EXCLUSIVE): inside an interactive transaction, a read on another connection would wait for a commit that
   * waits for that read, with or without a cache.
   */
  blocksReaders?: true
}

export const statements = {
  renameUser: {
    params: ['text', 'user'],
    sql: (p) => `UPDATE "User" SET "name" = ${p(1)} WHERE "id" = ${p(2)}`,
    tagged: (c, [name, id]) => c.$executeRaw`UPDATE "User" SET "name" = ${name} WHERE "id" = ${id}`,
  },
  karmaUpTo: {
    params: ['small', 'user'],
    sql: (p) => `UPDATE "User" SET "karma" = "karma" + ${p(1)} WHERE "id" <= ${p(2)}`,
    tagged: (c, [by, id]) => c.$executeRaw`UPDATE "User" SET "karma" = "karma" + ${by} WHERE "id" <= ${id}`,
  },
  doubleAdminBalance: {
    params: [],
    sql: () => `UPDATE "User" SET "balance" = "balance" * 2 + 1 WHERE "role" = 'ADMIN'`,
    tagged: (c) => c.$executeRaw`UPDATE "User" SET "balance" = "balance" * 2 + 1 WHERE "role" = 'ADMIN'`,
  },
  shiftUserId: {
    // ON UPDATE CASCADE: Post.authorId, Profile.userId, Comment.authorId, Membership.userId, User.invitedById follow.
    params: ['user'],
    sql: (p) => `UPDATE "User" SET "id" = "id" + 100 WHERE "id" = ${p(1)}`,
    tagged: (c, [id]) => c.$executeRaw`UPDATE "User" SET "id" = "id" + 100 WHERE "id" = ${id}`,
  },
  deleteUser: {
    params: ['user'],
    sql: (p) => `DELETE FROM "User" WHERE "id" = ${p(1)}`,
    tagged: (c, [id]) => c.$executeRaw`DELETE FROM "User" WHERE "id" = ${id}`,
  },
  togglePostsOf: {
    params: ['user'],
    sql: (p) => `UPDATE "Post" SET "published" = NOT "published", "views" = "views" + 1 WHERE "authorId" = ${p(1)}`,
    tagged: (c, [id]) =>
      c.$executeRaw`UPDATE "Post" SET "published" = NOT "published", "views" = "views" + 1 WHERE "authorId" = ${id}`,
  },
  movePost: {
    params: ['user', 'post'],
    sql: (p) => `UPDATE "Post" SET "authorId" = ${p(1)} WHERE "id" = ${p(2)}`,
    tagged: (c, [author, id]) => c.$executeRaw`UPDATE "Post" SET "authorId" = ${author} WHERE "id" = ${id}`,
  },
  deletePost: {
    params: ['post'],
    sql: (p) => `DELETE FROM "Post" WHERE "id" = ${p(1)}`,
    tagged: (c, [id]) => c.$executeRaw`DELETE FROM "Post" WHERE "id" = ${id}`,
  },
  deleteCommentsOfPost: {
    params: ['post'],
    sql: (p) => `DELETE FROM "Comment" WHERE "postId" = ${p(1)}`,
    tagged: (c, [id]) => c.$executeRaw`DELETE FROM "Comment" WHERE "postId" = ${id}`,
  },
  rewordComments: {
    // Lower case and a comment: Strata must still find the table.
    params: ['text', 'user'],
    sql: (p) => `/* strata */ update "Comment" set "body" = ${p(1)} where "authorId" = ${p(2)}`,
    tagged: (c, [body, id]) =>
      c.$executeRaw`/* strata */ update "Comment" set "body" = ${body} where "authorId" = ${id}`,
  },
  deleteCommentsWith: {
    params: ['user'],
    sql: (p) =>
      `WITH doomed AS (SELECT "id" FROM "Comment" WHERE "authorId" = ${p(1)}) DELETE FROM "Comment" WHERE "id" IN (SELECT "id" FROM doomed)`,
    tagged: (c, [id]) =>
      c.$executeRaw`WITH doomed AS (SELECT "id" FROM "Comment" WHERE "authorId" = ${id}) DELETE FROM "Comment" WHERE "id" IN (SELECT "id" FROM doomed)`,
    mysql: (p) =>
      `DELETE FROM \`Comment\` WHERE \`id\` IN (SELECT \`id\` FROM (SELECT \`id\` FROM \`Comment\` WHERE \`authorId\` = ${p(1)}) AS doomed)`,
  },
  untagPost: {
    // The implicit many-to-many table: A is the Post id, B the Tag id.
    params: ['post'],
    sql: (p) => `DELETE FROM "_PostToTag" WHERE "A" = ${p(1)}`,
    tagged: (c, [id]) => c.$executeRaw`DELETE FROM "_PostToTag" WHERE "A" = ${id}`,
  },
  renameTag: {
    params: ['small'],
    sql: (p) => `UPDATE "Tag" SET "name" = "name" || '+' WHERE "id" = ${p(1)}`,
    tagged: (c, [id]) => c.$executeRaw`UPDATE "Tag" SET "name" = "name" || '+' WHERE "id" = ${id}`,
    mysql: (p) => `UPDATE \`Tag\` SET \`name\` = CONCAT(\`name\`, '+') WHERE \`id\` = ${p(1)}`,
  },
  teamRole: {
    params: ['text', 'team'],
    sql: (p) => `UPDATE "Membership" SET "role" = ${p(1)} WHERE "teamId" = ${p(2)}`,
    tagged: (c, [role, team]) => c.$executeRaw`UPDATE "Membership" SET "role" = ${role} WHERE "teamId" = ${team}`,
  },
  deleteTeam: {
    params: ['team'],
    sql: (p) => `DELETE FROM "Team" WHERE "id" = ${p(1)}`,
    tagged: (c, [id]) => c.$executeRaw`DELETE FROM "Team" WHERE "id" = ${id}`,
  },
  profileBio: {
    params: ['text', 'user'],
    sql: (p) => `UPDATE "Profile" SET "bio" = ${p(1)} WHERE "userId" = ${p(2)}`,
    tagged: (c, [bio, id]) => c.$executeRaw`UPDATE "Profile" SET "bio" = ${bio} WHERE "userId" = ${id}`,
  },
  // Writes a regular-expression reading of SQL missed: behind an apostrophe in a comment, a dollar-quoted or
  // escaped string; the second target of a CTE; every table of a TRUNCATE. Some move keys that others reference.
  renameItemAfterComment: {
    params: ['text', 'small'],
    sql: (p) => `-- don't skip this\nUPDATE "Item" SET "name" = ${p(1)} WHERE "id" = ${p(2)}`,
    tagged: (c, [name, id]) => c.$executeRaw`-- don't skip this
UPDATE "Item" SET "name" = ${name} WHERE "id" = ${id}`,
  },
  moveCrate: {
    // Crate.boxId moves: Item.crateBoxId follows (ON UPDATE CASCADE).
    params: ['small', 'small'],
    sql: (p) => `/* it's moving */ UPDATE "Crate" SET "boxId" = ${p(1)} WHERE "id" = ${p(2)}`,
    tagged: (c, [box, id]) => c.$executeRaw`/* it's moving */ UPDATE "Crate" SET "boxId" = ${box} WHERE "id" = ${id}`,
  },
  shiftPersonId: {
    // Passport.personId (its primary key) follows, and Stamp.passportId after it.
    params: ['small'],
    sql: (p) => `UPDATE "Person" SET "id" = "id" + 10 WHERE "id" = ${p(1)}`,
    tagged: (c, [id]) => c.$executeRaw`UPDATE "Person" SET "id" = "id" + 10 WHERE "id" = ${id}`,
  },
  emptyCrateWith: {
    params: ['small'],
    sql: (p) =>
      `WITH doomed AS (SELECT "id" FROM "Item" WHERE "crateBoxId" = ${p(1)}) DELETE FROM "Item" WHERE "id" IN (SELECT "id" FROM doomed)`,
    tagged: (c, [box]) =>
      c.$executeRaw`WITH doomed AS (SELECT "id" FROM "Item" WHERE "crateBoxId" = ${box}) DELETE FROM "Item" WHERE "id" IN (SELECT "id" FROM doomed)`,
    mysql: (p) =>
      `DELETE FROM \`Item\` WHERE \`id\` IN (SELECT \`id\` FROM (SELECT \`id\` FROM \`Item\` WHERE \`crateBoxId\` = ${p(1)}) AS doomed)`,
  },
  relabelDollarQuoted: {
    providers: ['postgres'],
    params: ['small'],
    sql: (p) =>
      `WITH t AS (SELECT $$it's$$ AS a) UPDATE "Box" SET "label" = 'x' || (SELECT a FROM t) WHERE "id" = ${p(1)}`,
    tagged: (c, [id]) =>
      c.$executeRaw`WITH t AS (SELECT $$it's$$ AS a) UPDATE "Box" SET "label" = 'x' || (SELECT a FROM t) WHERE "id" = ${id}`,
  },
  stampEscaped: {
    providers: ['postgres'],
    params: ['small'],
    sql: (p) =>
      `WITH t AS (SELECT E'\\'' AS a) UPDATE "Stamp" SET "country" = 'q' || (SELECT a FROM t) WHERE "id" = ${p(1)}`,
    tagged: (c, [id]) =>
      c.$executeRaw`WITH t AS (SELECT E'\\'' AS a) UPDATE "Stamp" SET "country" = 'q' || (SELECT a FROM t) WHERE "id" = ${id}`,
  },
  moveCrateAndDropStamp: {
    // Two data-modifying targets: the CTE's (which cascades to Item) and the statement's.
    providers: ['postgres'],
    params: ['small', 'small', 'small'],
    sql: (p) =>
      `WITH moved AS (UPDATE "Crate" SET "boxId" = ${p(1)} WHERE "id" = ${p(2)} RETURNING "id") DELETE FROM "Stamp" WHERE "id" = ${p(3)}`,
    tagged: (c, [box, id, stamp]) =>
      c.$executeRaw`WITH moved AS (UPDATE "Crate" SET "boxId" = ${box} WHERE "id" = ${id} RETURNING "id") DELETE FROM "Stamp" WHERE "id" = ${stamp}`,
  },
  truncateLeaves: {
    providers: ['postgres'],
    forms: ['unsafe', 'tagged'],
    params: [],
    // TRUNCATE locks its tables against readers until the transaction ends, as the cascading one does.
    blocksReaders: true,
    sql: () => `TRUNCATE "Stamp", "Item"`,
    tagged: (c) => c.$executeRaw`TRUNCATE "Stamp", "Item"`,
  },
  truncateCascade: {
    // CASCADE empties every table that references these: Crate, Item, Passport, Stamp.
    providers: ['postgres'],
    forms: ['unsafe', 'tagged'],
    params: [],
    blocksReaders: true,
    sql: () => `TRUNCATE "Box", "Person" CASCADE`,
    tagged: (c) => c.$executeRaw`TRUNCATE "Box", "Person" CASCADE`,
  },
} satisfies Record<string, Statement>

export type StatementName = keyof typeof statements

export const statementNames = Object.keys(statements) as StatementName[]

/** The statements a provider's syntax allows. */
export function statementsFor(provider: Provider): StatementName[] {
  return statementNames.filter((name) => {
    const providers = (statements[name] as Statement).providers
    return providers === undefined || providers.includes(provider)
  })
}

/** The forms a statement can take. */
export function formsOf(name: StatementName): ReadonlyArray<RawSpec['form']> {
  return (statements[name] as Statement).forms ?? ['unsafe', 'tagged', 'query']
}

export function placeholders(provider: Provider): (n: number) => string {
  return provider === 'postgres' ? (n) => `$${n}` : () => '?'
}

/** The statement's SQL as the provider takes it. */
function sqlOf(statement: Statement, provider: Provider, p: (n: number) => string): string {
  if (provider !== 'mysql') return statement.sql(p)
  return statement.mysql?.(p) ?? statement.sql(p).replace(/"/g, '`')
}

/** The tagged form on MySQL: the same template call, its strings cut from the MySQL text at the placeholders. */
function taggedMysql(client: TaggedClient, statement: Statement, values: Values): PromiseLike<number> {
  const parts = sqlOf(statement, 'mysql', () => '\u0000').split('\u0000')
  const strings = Object.assign([...parts], { raw: [...parts] }) as unknown as TemplateStringsArray
  return client.$executeRaw(strings, ...values)
}

/**
 * `spec` sent through `client` (cached, raw or a transaction client): Prisma's own promise, not yet awaited, so it
 * can join a batch `$transaction([...])`. Pass what it resolves to through `rawAnswer`.
 */
export function rawCall(client: unknown, provider: Provider, spec: RawSpec): PromiseLike<unknown> {
  const statement = (statements as Record<string, Statement>)[spec.statement]
  if (!statement) throw new Error(`unknown raw statement ${spec.statement}`)
  const c = client as TaggedClient & {
    $executeRawUnsafe(sql: string, ...values: unknown[]): PromiseLike<number>
    $queryRawUnsafe(sql: string, ...values: unknown[]): PromiseLike<unknown[]>
  }
  const sql = sqlOf(statement, provider, placeholders(provider))
  switch (spec.form) {
    case 'unsafe':
      return c.$executeRawUnsafe(sql, ...spec.values)
    case 'tagged':
      return provider === 'mysql' ? taggedMysql(c, statement, spec.values) : statement.tagged(c, spec.values)
    case 'query':
      return c.$queryRawUnsafe(provider === 'mysql' ? sql : `${sql} RETURNING 1 AS "one"`, ...spec.values)
  }
}

/** What a raw call answered, comparable: the row order of `RETURNING` is the database's business, so its count. */
export function rawAnswer(spec: RawSpec, value: unknown): unknown {
  return spec.form === 'query' && Array.isArray(value) ? { rows: value.length } : value
}

export function runRaw(client: unknown, provider: Provider, spec: RawSpec): PromiseLike<unknown> {
  return rawCall(client, provider, spec).then((value) => rawAnswer(spec, value))
}
