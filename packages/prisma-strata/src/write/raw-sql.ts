/**
 * Which models a raw SQL statement can change, read by a real parser for the database's dialect (see
 * postgres-sql.ts, mysql-sql.ts): the tables it writes (every statement, every data-modifying CTE, every table of a
 * TRUNCATE), each with what referential actions reach from it. A statement the parser cannot prove harmless (not parsed, a
 * function not known to be read-only, CALL, DO, COPY, DDL, or the parser not loaded yet) takes every model. A
 * statement proven to only read changes nothing: `$queryRaw` of it is not a write.
 */
import type { ModelGraph } from '../schema/model-graph'
import { modelsByTable } from '../schema/table-models'
import { mysqlDialect } from './mysql-sql'
import { postgresDialect } from './postgres-sql'
import type { SqlDialect } from './sql-dialect'

/** Parsers by Prisma provider (`mysql` serves MariaDB too). */
const dialects: Record<string, () => SqlDialect> = {
  mysql: () => mysqlDialect(),
  postgresql: () => postgresDialect(),
  // SQLite's statements are read by PostgreSQL's grammar where it parses them; what it does not parse is unknown.
  sqlite: () => postgresDialect(true),
}

/** The parser for a provider (`client._engineConfig.activeProvider`), or undefined when there is none. */
export function sqlDialect(provider: string | undefined): SqlDialect | undefined {
  return provider === undefined ? undefined : dialects[provider]?.()
}

/**
 * The SQL text of `$executeRaw` template args (values as the dialect's placeholders), or of `$executeRawUnsafe`'s
 * first argument.
 */
export function sqlText(args: unknown, placeholder: (n: number) => string = () => '?'): string | undefined {
  if (Array.isArray(args) && typeof args[0] === 'string') return args[0]
  const strings = (args as { strings?: unknown })?.strings
  if (Array.isArray(strings)) return strings.reduce((text: string, part, i) => `${text}${placeholder(i)}${part}`)
  const sql = (args as { sql?: unknown; text?: unknown })?.sql ?? (args as { text?: unknown })?.text
  return typeof sql === 'string' ? sql : undefined
}

/** The models a statement can change: none when it only reads, every model when that cannot be proven. */
export function rawSqlModels(graph: ModelGraph, dialect: SqlDialect | undefined, sql: string | undefined): string[] {
  const all = () => [...graph.models.keys()].sort()
  const tables = sql === undefined ? undefined : dialect?.writtenTables(sql)
  if (tables === undefined) return all()
  const byTable = modelsByTable(graph)
  const models = new Set<string>()
  for (const table of tables) {
    const hit = byTable.get(table.toLowerCase())
    if (!hit) return all() // a table Strata does not know (a view, another schema's): be safe
    for (const m of hit) models.add(m)
  }
  return [...models].sort()
}
