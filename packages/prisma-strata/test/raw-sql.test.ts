import { beforeAll, describe, expect, it, vi } from 'vitest'
import { mysqlDialect } from '../src/write/mysql-sql'
import { postgresDialect } from '../src/write/postgres-sql'
import { rawSqlModels, sqlText } from '../src/write/raw-sql'
import { preciseGraph } from './fixtures'

const all = [...preciseGraph.models.keys()].sort()
const postgres = postgresDialect()
const sqlite = postgresDialect(true)
const mysql = mysqlDialect()
const models = (sql: string, dialect = postgres) => rawSqlModels(preciseGraph, dialect, sql)

beforeAll(() => Promise.all([postgres.loaded, mysql.loaded]))

describe("raw SQL read by PostgreSQL's parser", () => {
  it('names the target tables of writes, with what referential actions reach', () => {
    expect(models('UPDATE "Tag" SET name = $1')).toEqual(['Post', 'Tag'])
    expect(models('DELETE FROM "Comment" WHERE id = $1')).toEqual(['Comment'])
    expect(models('insert into "_PostToTag" ("A","B") values (1,2)')).toEqual(['Post', 'Tag'])
    expect(models('UPDATE "Crate" SET "boxId" = 2')).toEqual(['Crate', 'Item'])
  })

  it('proves plain reads, string literals and row locks included', () => {
    expect(models(`SELECT * FROM "User" WHERE name = 'delete me'`)).toEqual([])
    expect(models('SELECT count(*), lower(name), coalesce(name, $1) FROM "User" FOR UPDATE')).toEqual([])
    expect(models('SELECT pg_catalog.upper(title) FROM "Post" JOIN "User" ON true')).toEqual([])
  })

  it('sees a write after an apostrophe in a comment, a dollar-quoted string or an escaped string', () => {
    expect(models(`-- don't\nUPDATE "User" SET name = 'x'`)).toEqual(models('UPDATE "User" SET name = 1'))
    expect(models(`SELECT $$it's$$; UPDATE "Tag" SET name = 'q'`)).toEqual(['Post', 'Tag'])
    expect(models(`WITH t AS (SELECT $q$it's$q$ AS a) UPDATE "Tag" SET name = 'z'`)).toEqual(['Post', 'Tag'])
    expect(models(`SELECT E'\\'' AS x; DELETE FROM "Comment"`)).toEqual(['Comment'])
    expect(models(`/* it's */ DELETE FROM "Comment" /* 'x */`)).toEqual(['Comment'])
  })

  it('takes every target: data-modifying CTEs, every statement, every table of a TRUNCATE and what CASCADE reaches', () => {
    expect(
      models(
        'WITH a AS (UPDATE "Tag" SET name = $1 RETURNING id) DELETE FROM "Comment" WHERE id IN (SELECT id FROM a)',
      ),
    ).toEqual(['Comment', 'Post', 'Tag'])
    expect(models('SELECT 1; DELETE FROM "Comment"; SELECT 2')).toEqual(['Comment'])
    expect(models('TRUNCATE "Box", "Person" CASCADE')).toEqual(['Box', 'Crate', 'Item', 'Passport', 'Person', 'Stamp'])
    expect(models('EXPLAIN ANALYZE DELETE FROM "Comment"')).toEqual(['Comment'])
  })

  it('takes every model when it cannot prove what the statement does', () => {
    expect(models('SELECT do_something()')).toEqual(all)
    expect(models('SELECT public.lower(name) FROM "User"')).toEqual(all)
    expect(models('SELECT nextval($1)')).toEqual(all)
    expect(models('SELECT * INTO copy FROM "User"')).toEqual(all)
    expect(models('CALL refresh()')).toEqual(all)
    expect(models(`DO $$ BEGIN UPDATE "User" SET name = 'a'; END $$`)).toEqual(all)
    expect(models('COPY "User" FROM STDIN')).toEqual(all)
    expect(models('SELECT 1; CALL refresh()')).toEqual(all)
    expect(models('UPDATE audit_x SET a = 1')).toEqual(all) // a table that is no model's
    expect(models('UPDATE "User" SET')).toEqual(all) // does not parse
    expect(rawSqlModels(preciseGraph, postgres, undefined)).toEqual(all)
    expect(rawSqlModels(preciseGraph, undefined, 'SELECT 1')).toEqual(all) // a provider without a parser
  })

  it('before the parser is loaded, every statement takes every model', async () => {
    vi.resetModules()
    const fresh = await import('../src/write/postgres-sql')
    const dialect = fresh.postgresDialect()
    expect(rawSqlModels(preciseGraph, dialect, 'SELECT 1')).toEqual(all)
    await dialect.loaded
    expect(rawSqlModels(preciseGraph, dialect, 'SELECT 1')).toEqual([])
  })
})

describe('SQLite statements', () => {
  it('are read by the same parser, with ? placeholders', () => {
    expect(models('UPDATE "Tag" SET name = ? WHERE id = ?1', sqlite)).toEqual(['Post', 'Tag'])
    expect(models(`SELECT * FROM "User" WHERE name = ? AND email = 'who?'`, sqlite)).toEqual([])
    expect(models(`-- don't\nDELETE FROM "Comment" WHERE id = ?`, sqlite)).toEqual(['Comment'])
  })

  it("take every model where PostgreSQL's grammar does not parse them", () => {
    expect(models('DELETE FROM `Comment`', sqlite)).toEqual(all)
    expect(models('INSERT OR REPLACE INTO "Tag" (name) VALUES (?)', sqlite)).toEqual(all)
    expect(models('PRAGMA foreign_keys = OFF', sqlite)).toEqual(all)
  })
})

describe("MySQL/MariaDB statements, read by node-sql-parser's MySQL grammar", () => {
  const my = (sql: string) => models(sql, mysql)

  it('name the tables INSERT, REPLACE, UPDATE, DELETE and TRUNCATE write, in backticks or not', () => {
    expect(my('INSERT INTO `Comment` (body) VALUES (?)')).toEqual(['Comment'])
    expect(my('INSERT INTO `Tag` (name) VALUES (?) ON DUPLICATE KEY UPDATE name = VALUES(name)')).toEqual([
      'Post',
      'Tag',
    ])
    expect(my('INSERT INTO `Comment` (body) SELECT title FROM `Post`')).toEqual(['Comment'])
    expect(my('REPLACE INTO `Comment` (id, body) VALUES (?, ?)')).toEqual(['Comment'])
    expect(my('UPDATE Comment SET body = ? WHERE id = ?')).toEqual(['Comment'])
    expect(my('DELETE FROM `Comment` WHERE id = ?')).toEqual(['Comment'])
    expect(my('TRUNCATE TABLE `Comment`')).toEqual(['Comment'])
    expect(my('TRUNCATE `Box`')).toEqual(['Box', 'Crate', 'Item'])
  })

  it('take the tables a multi-table UPDATE sets, or every table it names when a column is not qualified', () => {
    expect(my("UPDATE `Comment` c JOIN `Post` p ON p.id = c.postId SET c.body = 'j'")).toEqual(['Comment'])
    expect(my("UPDATE `Comment` JOIN `Post` ON 1 = 1 SET `Comment`.`body` = 'j', `Post`.title = 'k'")).toEqual([
      'Comment',
      'Post',
      'Tag',
    ])
    expect(my("UPDATE `Comment` JOIN `Post` ON 1 = 1 SET body = 'j'")).toEqual(['Comment', 'Post', 'Tag'])
    expect(my('UPDATE `Comment`, `Tag` SET name = 1')).toEqual(['Comment', 'Post', 'Tag'])
  })

  it('take every table a multi-table DELETE deletes from, in both forms', () => {
    expect(my('DELETE c FROM `Comment` c JOIN `Post` p ON p.id = c.postId')).toEqual(['Comment'])
    expect(my('DELETE c, t FROM `Comment` c JOIN `Tag` t ON 1 = 1')).toEqual(['Comment', 'Post', 'Tag'])
    expect(my('DELETE FROM `Comment` USING `Comment` JOIN `Post` ON `Post`.id = `Comment`.postId')).toEqual(['Comment'])
    expect(my('delete from `Tag`, Comment using `Tag` RIGHT JOIN `Comment` ON 1 = 1')).toEqual([
      'Comment',
      'Post',
      'Tag',
    ])
  })

  it('take every statement and the statement under a CTE', () => {
    expect(my('SELECT 1; DELETE FROM `Comment`; SELECT 2')).toEqual(['Comment'])
    expect(
      my('WITH a AS (SELECT id FROM `Post`) UPDATE `Comment` SET body = ? WHERE postId IN (SELECT id FROM a)'),
    ).toEqual(['Comment'])
  })

  it('prove plain reads: built-in functions, row locks, keywords in backticks and strings', () => {
    expect(
      my(
        'SELECT COUNT(*), SUM(id), IFNULL(name, ?), CONCAT(a, ?), DATE_FORMAT(NOW(), ?), JSON_EXTRACT(j, ?) FROM `User`',
      ),
    ).toEqual([])
    expect(my('SELECT * FROM `User` WHERE id = ? FOR UPDATE')).toEqual([])
    expect(my('SELECT * FROM `User` LOCK IN SHARE MODE')).toEqual([])
    expect(my("SELECT `delete`, `update` FROM `User` WHERE `insert` = 'DELETE FROM `Comment`'")).toEqual([])
    expect(my('WITH a AS (SELECT COALESCE(name, ?) AS n FROM `User`) SELECT n FROM a')).toEqual([])
  })

  it('see a write after an apostrophe in a comment or an escaped quote in a string', () => {
    expect(my("-- don't\nUPDATE `Comment` SET body = 'x'")).toEqual(['Comment'])
    expect(my("# don't\nDELETE FROM `Comment`")).toEqual(['Comment'])
    expect(my("/* it's */ DELETE FROM `Comment` /* 'x */")).toEqual(['Comment'])
    expect(my('SELECT \'it\'\'s\', "a""b" AS x; DELETE FROM `Comment`')).toEqual(['Comment'])
    expect(my('SELECT 1 AS `x; DELETE FROM y`; DELETE FROM `Comment`')).toEqual(['Comment'])
    // Not a DELETE ... USING: a string, so nothing is rewritten and the UPDATE stays seen.
    expect(my("SELECT 'DELETE FROM `Tag` USING x'; UPDATE `Comment` SET body = 1")).toEqual(['Comment'])
  })

  it('take every model when they cannot prove what the statement does', () => {
    expect(my('SELECT my_fn(1)')).toEqual(all)
    expect(my('SELECT test.lower(name) FROM `User`')).toEqual(all) // a qualified function may be a stored one
    expect(my('SELECT id INTO @x FROM `User`')).toEqual(all)
    expect(my("SELECT * FROM `User` INTO OUTFILE '/tmp/u'")).toEqual(all)
    expect(my('CALL refresh()')).toEqual(all)
    expect(my('SET @a = 1')).toEqual(all)
    expect(my('UPDATE other.`Comment` SET body = 1')).toEqual(all) // a table qualified by a database
    expect(my('DELETE FROM `Comment` WHERE id = ? RETURNING id')).toEqual(all) // MariaDB syntax it does not parse
    expect(my('DELETE /* x */ FROM `Tag` USING `Tag`')).toEqual(all) // a USING form it does not rewrite
    expect(my('UPDATE `Comment` SET')).toEqual(all)
    // The server runs what these comments hold; the grammar skips it.
    expect(my('SELECT 1 /*! , my_fn() */ FROM `User`')).toEqual(all)
    expect(my('SELECT 1 /*M!100000 , my_fn() */ FROM `User`')).toEqual(all)
    expect(my('SELECT 1 --1, my_fn()\nFROM `User`')).toEqual(all) // `--` before no space is two minuses
    // With NO_BACKSLASH_ESCAPES the server reads `'x\'` as a whole string, then `'# '`, then calls my_fn(); the
    // grammar reads one string and a comment.
    expect(my("SELECT 'x\\' '# ', my_fn()\nFROM `User`")).toEqual(all)
    expect(my("SELECT 'it\\'s' AS x; DELETE FROM `Comment`")).toEqual(all)
    expect(my('SELECT "a\\"b" AS x')).toEqual(all)
    expect(my('UPDATE audit_x SET a = 1')).toEqual(all)
    expect(my('SELECT 1; CALL refresh()')).toEqual(all)
  })

  it('before the parser is loaded, take every model', async () => {
    vi.resetModules()
    const fresh = await import('../src/write/mysql-sql')
    const dialect = fresh.mysqlDialect()
    expect(rawSqlModels(preciseGraph, dialect, 'SELECT 1')).toEqual(all)
    await dialect.loaded
    expect(rawSqlModels(preciseGraph, dialect, 'SELECT 1')).toEqual([])
  })

  it('take ? placeholders', () => {
    const tagged = { strings: ['UPDATE `Comment` SET body = ', ' WHERE id = ', ''], values: ['b', 1] }
    expect(my(sqlText(tagged, mysql.placeholder) as string)).toEqual(['Comment'])
  })
})

describe('the SQL text of a raw call', () => {
  it('of tagged templates (placeholders of the dialect) and of unsafe calls', () => {
    const tagged = { strings: ['UPDATE "User" SET a = ', ' WHERE id = ', ''], values: [1, 2] }
    expect(sqlText(tagged, postgres.placeholder)).toBe('UPDATE "User" SET a = $1 WHERE id = $2')
    expect(sqlText(tagged, sqlite.placeholder)).toBe('UPDATE "User" SET a = ? WHERE id = ?')
    expect(sqlText(['DELETE FROM "User"', 1])).toBe('DELETE FROM "User"')
  })
})
