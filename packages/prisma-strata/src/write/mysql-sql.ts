/**
 * Raw SQL on MySQL/MariaDB, read by node-sql-parser's MySQL grammar (a PEG parser of MySQL's syntax: backticks,
 * `#` comments, backslash escapes in strings, multi-table UPDATE and DELETE). About 270 kB of JavaScript, so it is
 * loaded once per process, in the background; until it is ready every statement counts as unknown.
 */

import { readOnlyFunctions } from './read-only-functions'
import type { SqlDialect } from './sql-dialect'

type Node = Record<string, unknown>
type Parser = { astify(sql: string, options: { database: string }): Node | Node[] }

let parser: Parser | undefined
let loading: Promise<unknown> | undefined

/** Resolves to undefined once the parser is loaded, or to why it could not be. */
function load(): Promise<unknown> {
  loading ??= import('node-sql-parser/build/mysql.js')
    .then((module) => {
      // A CommonJS bundle: its exports come as `default` (Node) or as named exports (bundlers).
      const exports = module as unknown as { Parser?: new () => Parser; default?: { Parser?: new () => Parser } }
      const Parser = exports.Parser ?? exports.default?.Parser
      if (!Parser) throw new Error('node-sql-parser/build/mysql.js has no Parser')
      parser = new Parser()
    })
    .then(
      () => undefined,
      // An optional peer dependency (its package is large): without it, MySQL raw SQL bumps every model.
      (error: unknown) =>
        new Error('node-sql-parser could not be loaded; `npm i node-sql-parser` lets Strata read MySQL raw SQL', {
          cause: error,
        }),
    )
  return loading
}

class Unknown extends Error {}

const statementKinds = new Set(['insert', 'replace', 'update', 'delete', 'truncate', 'select'])

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null
}

/** A table reference as a name: `db.table` when qualified (no model's, so every model). */
function tableName(ref: unknown): string {
  if (!isNode(ref) || typeof ref.table !== 'string') throw new Unknown()
  return typeof ref.db === 'string' ? `${ref.db}.${ref.table}` : ref.table
}

/** The tables of a FROM/JOIN list, by the name statements may use for them (alias, else table). */
function tablesByName(refs: unknown): Map<string, string> {
  const byName = new Map<string, string>()
  for (const ref of Array.isArray(refs) ? refs : []) {
    if (!isNode(ref) || ref.type === 'dual') continue
    if (ref.expr !== undefined) continue // a derived table: not a target, its statement is walked as a read
    const table = tableName(ref)
    byName.set(typeof ref.as === 'string' ? ref.as : String(ref.table), table)
  }
  return byName
}

/** Adds the tables one statement writes to `tables`; throws `Unknown` at anything it cannot prove harmless. */
function statementTables(stmt: Node, tables: Set<string>): void {
  const kind = stmt.type
  if (typeof kind !== 'string' || !statementKinds.has(kind)) throw new Unknown() // CALL, SET, DDL, LOAD DATA...
  if (kind === 'insert' || kind === 'replace' || kind === 'truncate') {
    const refs = kind === 'truncate' ? stmt.name : stmt.table
    for (const ref of Array.isArray(refs) ? refs : [refs]) tables.add(tableName(ref))
  } else if (kind === 'update') {
    const named = tablesByName(stmt.table)
    const set = Array.isArray(stmt.set) ? (stmt.set as Node[]) : []
    // A multi-table UPDATE writes the tables whose columns it sets; a column not qualified could be any of them.
    const targets = set.map((item) => (named.size === 1 ? [...named.values()][0] : named.get(String(item.table))))
    for (const table of targets.includes(undefined) ? named.values() : targets) tables.add(table as string)
  } else if (kind === 'delete') {
    const named = tablesByName(stmt.from)
    for (const ref of Array.isArray(stmt.table) ? stmt.table : []) {
      const table = isNode(ref) && !ref.db ? named.get(String(ref.table)) : undefined
      tables.add(table ?? tableName(ref))
    }
  }
  visit(stmt, true)
}

/** Walks what a statement reads: every function it calls must be a read-only built-in, nothing nested may write. */
function visit(node: unknown, top = false): void {
  if (Array.isArray(node)) {
    for (const item of node) visit(item)
    return
  }
  if (!isNode(node)) return
  if (!top && typeof node.type === 'string' && node.type !== 'select' && statementKinds.has(node.type)) {
    throw new Unknown()
  }
  if (node.type === 'function') {
    // A function may be a stored one that writes: only built-ins known to be read-only are.
    const name = node.name as { name?: Array<{ value?: unknown }>; schema?: unknown } | undefined
    const parts = name?.name ?? []
    if (name?.schema || parts.length !== 1 || !readOnlyFunctions.has(String(parts[0]?.value).toLowerCase())) {
      throw new Unknown()
    }
  } else if (node.type === 'aggr_func' && !readOnlyFunctions.has(String(node.name).toLowerCase())) {
    throw new Unknown()
  } else if (node.type === 'select' && isNode(node.into) && node.into.type) {
    throw new Unknown() // SELECT ... INTO OUTFILE / @variable
  }
  for (const value of Object.values(node)) visit(value)
}

/**
 * `DELETE FROM a, b USING ...` is `DELETE a, b FROM ...`, which the grammar knows. Only at the very start of the
 * text and over plain or backticked names, so no comment or string can take part in the rewrite.
 */
const name = '(?:`(?:[^`]|``)+`|\\w+)'
const table = `${name}(?:\\.${name})?`
const deleteUsing = new RegExp(`^(\\s*)DELETE\\s+FROM\\s+(${table}(?:\\s*,\\s*${table})*)\\s+USING\\s`, 'i')

// Where the grammar and the server part ways, the server wins: MySQL runs what a comment opened by `/*!` or `/*M!`
// holds, reads `--` as a comment only before a space (`1--1` is `1 - -1`), and under NO_BACKSLASH_ESCAPES ends a
// string at the quote of `\'`, where the grammar reads an escape; the grammar skips or misreads all three.
const unlikeServer = /\/\*M?!|--\S|\\['"]/i

function tablesOf(parser: Parser, sql: string): string[] | undefined {
  if (unlikeServer.test(sql)) return undefined
  const tables = new Set<string>()
  try {
    const text = sql.replace(deleteUsing, '$1DELETE $2 FROM ')
    const ast = parser.astify(text, { database: 'MySQL' })
    const statements = Array.isArray(ast) ? ast : [ast]
    if (statements.length === 0) throw new Unknown()
    for (const stmt of statements) statementTables(stmt, tables)
  } catch {
    return undefined
  }
  return [...tables]
}

/** MySQL's and MariaDB's dialect (Prisma's `mysql` provider), with `?` placeholders. */
export function mysqlDialect(): SqlDialect {
  // An application sends the same few statement texts again and again (a tagged template is one text).
  const known = new Map<string, string[] | undefined>()
  return {
    placeholder: () => '?',
    loaded: load(),
    writtenTables(sql) {
      if (!parser) return undefined
      if (known.has(sql)) return known.get(sql)
      const tables = tablesOf(parser, sql)
      if (known.size >= 1000) known.clear()
      known.set(sql, tables)
      return tables
    },
  }
}
