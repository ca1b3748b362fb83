import { beforeAll, describe, expect, it, vi } from 'vitest'
import { postgresDialect } from '../src/write/postgres-sql'
import { rawSqlModels, sqlText } from '../src/write/raw-sql'
import { preciseGraph } from './fixtures'

const all = [...preciseGraph.models.keys()].sort()
const postgres = postgresDialect()
const sqlite = postgresDialect(true)
const models = (sql: string, dialect = postgres) => rawSqlModels(preciseGraph, dialect, sql)

beforeAll(() => postgres.loaded)

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

describe('the SQL text of a raw call', () => {
  it('of tagged templates (placeholders of the dialect) and of unsafe calls', () => {
    const tagged = { strings: ['UPDATE "User" SET a = ', ' WHERE id = ', ''], values: [1, 2] }
    expect(sqlText(tagged, postgres.placeholder)).toBe('UPDATE "User" SET a = $1 WHERE id = $2')
    expect(sqlText(tagged, sqlite.placeholder)).toBe('UPDATE "User" SET a = ? WHERE id = ?')
    expect(sqlText(['DELETE FROM "User"', 1])).toBe('DELETE FROM "User"')
  })
})
