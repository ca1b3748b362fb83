/**
 * Raw SQL read by PostgreSQL's own parser (libpg-query, compiled to WebAssembly): comments, dollar quotes and
 * escaped strings are read as PostgreSQL reads them, so no write hides behind them. Loaded once per process, in
 * the background; until it is ready, every statement counts as unknown (it bumps every model).
 */

import { readOnlyFunctions } from './read-only-functions'
import type { SqlDialect } from './sql-dialect'

type Parser = { parseSync(sql: string): { stmts?: Array<{ stmt?: Node }> } }
type Node = Record<string, unknown>

let parser: Parser | undefined
let loading: Promise<unknown> | undefined

/** Resolves to undefined once the parser is loaded, or to why it could not be. */
function load(): Promise<unknown> {
  loading ??= import('libpg-query')
    .then(async (module) => {
      await module.loadModule()
      parser = module
    })
    .then(
      () => undefined,
      (error: unknown) => error,
    )
  return loading
}

/** Statement kinds that can change rows: their target tables are written. */
const writes = ['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']

class Unknown extends Error {}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null
}

/** Adds every table `node` writes to `tables`; throws `Unknown` at anything it cannot prove harmless. */
function visit(node: unknown, tables: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) visit(item, tables)
    return
  }
  if (!isNode(node)) return
  for (const [key, value] of Object.entries(node)) {
    if (writes.includes(key)) {
      const relname = ((value as Node).relation as Node | undefined)?.relname
      if (typeof relname !== 'string') throw new Unknown()
      tables.add(relname)
    } else if (key === 'FuncCall') {
      // A function may be user-defined and write: only built-ins known to be read-only are.
      const names = (((value as Node).funcname as Node[] | undefined) ?? []).map((n) => (n.String as Node)?.sval)
      const [schema, name] = names.length === 2 ? names : ['pg_catalog', names[0]]
      if (names.length > 2 || schema !== 'pg_catalog' || !readOnlyFunctions.has(String(name).toLowerCase())) {
        throw new Unknown()
      }
    } else if (key === 'SelectStmt' && (value as Node).intoClause) {
      throw new Unknown() // SELECT ... INTO creates a table
    }
    visit(value, tables)
  }
}

/** The tables one top-level statement writes, or throws `Unknown`. */
function statementTables(stmt: Node, tables: Set<string>): void {
  const [kind, body] = Object.entries(stmt)[0] ?? []
  if (kind === 'TruncateStmt') {
    for (const rel of ((body as Node).relations as Node[] | undefined) ?? []) {
      const relname = (rel.RangeVar as Node | undefined)?.relname
      if (typeof relname !== 'string') throw new Unknown()
      tables.add(relname)
    }
  } else if (kind === 'SelectStmt' || kind === 'ExplainStmt' || writes.includes(kind ?? '')) {
    // EXPLAIN ANALYZE runs its statement: taken as if it ran.
    visit(stmt, tables)
  } else if (kind !== 'VariableShowStmt') {
    throw new Unknown() // CALL, DO, COPY, DDL, anything else
  }
}

/**
 * PostgreSQL's dialect; `questionMarks` for SQLite, whose `?` placeholders are read as PostgreSQL's `$n` (its SQL
 * that PostgreSQL's grammar does not parse counts as unknown).
 */
export function postgresDialect(questionMarks = false): SqlDialect {
  // Parsing costs up to a few hundred microseconds; an application sends the same few statement texts again and
  // again (a tagged template is one text whatever its values).
  const known = new Map<string, string[] | undefined>()
  return {
    placeholder: questionMarks ? () => '?' : (n) => `$${n}`,
    loaded: load(),
    writtenTables(sql) {
      if (!parser) return undefined
      // PostgreSQL nests block comments and SQLite does not: `/* /* */ UPDATE ... -- */` hides a write from one of
      // them. SQLite text with a block comment is not read at all.
      if (questionMarks && sql.includes('/*')) return undefined
      if (known.has(sql)) return known.get(sql)
      const tables = tablesOf(parser, questionMarks ? numbered(sql) : sql)
      if (known.size >= 1000) known.clear()
      known.set(sql, tables)
      return tables
    },
  }
}

/** SQLite's `?` and `?NNN` placeholders as PostgreSQL's `$n`. */
function numbered(sql: string): string {
  let n = 0
  return sql.replace(/\?(\d*)/g, (_, i: string) => `$${i || ++n}`)
}

function tablesOf(parser: Parser, sql: string): string[] | undefined {
  const tables = new Set<string>()
  try {
    for (const { stmt } of parser.parseSync(sql).stmts ?? []) {
      if (!stmt) throw new Unknown()
      statementTables(stmt, tables)
    }
  } catch {
    return undefined
  }
  return [...tables]
}
