/**
 * Which models a raw SQL statement can change. `$executeRaw` bumps every model unless each statement's target
 * tables can be read from its text; `$queryRaw` bumps nothing when it is a plain read and is treated like
 * `$executeRaw` when it writes (`INSERT ... RETURNING`, `WITH ... DELETE`).
 */
import { type ModelGraph, referencingModels } from '../schema/model-graph'

const name = String.raw`(?:"[^"]+"|\x60[^\x60]+\x60|\[[^\]]+\]|[\w$]+)`
const qualified = String.raw`(?:${name}\s*\.\s*)?(${name})`
const writeTarget = new RegExp(
  String.raw`\b(?:insert\s+(?:or\s+\w+\s+)?into|replace\s+into|update(?:\s+only)?|delete\s+from|truncate(?:\s+table)?(?:\s+only)?|merge\s+into|alter\s+table|drop\s+table(?:\s+if\s+exists)?)\s+${qualified}`,
  'gi',
)
const writeVerb = /\b(insert|update|delete|truncate|merge|alter|drop|create|replace|grant|vacuum|copy|call|exec|do)\b/i

function unquote(identifier: string): string {
  return identifier.replace(/^["`[]|["`\]]$/g, '')
}

/** The SQL text of `$executeRaw` template args, or of `$executeRawUnsafe`'s first argument. */
export function sqlText(args: unknown): string | undefined {
  if (Array.isArray(args) && typeof args[0] === 'string') return args[0]
  const strings = (args as { strings?: unknown })?.strings
  if (Array.isArray(strings)) return strings.join('?')
  const sql = (args as { sql?: unknown; text?: unknown })?.sql ?? (args as { text?: unknown })?.text
  return typeof sql === 'string' ? sql : undefined
}

/** True when the statement cannot change data (a plain SELECT, SHOW, EXPLAIN without ANALYZE...). */
export function isReadOnlySql(sql: string): boolean {
  return !writeVerb.test(sql.replace(/'(?:[^']|'')*'/g, "''"))
}

/** The models a statement writes, or every model when its targets cannot all be named. */
export function rawSqlModels(graph: ModelGraph, sql: string | undefined): string[] {
  const all = () => [...graph.models.keys()].sort()
  if (sql === undefined) return all()
  const text = sql.replace(/'(?:[^']|'')*'/g, "''").replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ')
  // A raw DELETE or key UPDATE runs the database's referential actions: a model's table takes what they can
  // reach; a join table (nothing references it) takes its two models.
  const byTable = new Map<string, Iterable<string>>()
  for (const model of graph.models.values())
    byTable.set(model.dbName.toLowerCase(), referencingModels(graph, model.name))
  for (const [table, pair] of graph.joinTables) byTable.set(table.toLowerCase(), pair)
  const models = new Set<string>()
  let found = 0
  for (const match of text.matchAll(writeTarget)) {
    found++
    const hit = byTable.get(unquote(match[1] ?? '').toLowerCase())
    if (!hit) return all()
    for (const m of hit) models.add(m)
  }
  // A write verb whose target was not matched (a CTE, a function call): be safe.
  if (found === 0) return all()
  return [...models].sort()
}
