/**
 * Which models a change to a table can reach: a model's table takes the model and what referential actions can
 * reach from it (a raw DELETE, a key UPDATE or a TRUNCATE ... CASCADE runs them in the database); an implicit
 * many-to-many join table (nothing references it) takes its two models. Raw SQL (write/raw-sql.ts) and the
 * database's change stream (changes/follower.ts) both map tables to models through here.
 */
import { type ModelGraph, type ModelInfo, referencingModels } from './model-graph'

/**
 * The models each table name can reach, keyed by the lower-cased name. Names are matched ignoring case, and every
 * table that matches counts: whether `Note` and `note` are one table depends on quoting and, on MySQL, on the
 * server's settings.
 */
export function modelsByTable(graph: ModelGraph): Map<string, string[]> {
  const byTable = new Map<string, string[]>()
  const add = (table: string, models: Iterable<string>) => {
    const key = table.toLowerCase()
    byTable.set(key, [...new Set([...(byTable.get(key) ?? []), ...models])])
  }
  for (const model of graph.models.values()) add(model.dbName, referencingModels(graph, model.name))
  for (const [table, pair] of graph.joinTables) add(table, pair)
  return byTable
}

/** What the change stream's tables map to: a table is named by its schema and its name there. */
export interface SchemaTables {
  /** The models each table can reach, keyed by `tableKey`. */
  reach: Map<string, string[]>
  /** The model(s) whose own table it is, keyed by `tableKey`. */
  own: Map<string, ModelInfo[]>
}

/** A table's key in `SchemaTables`: schema and name, lower-cased like `modelsByTable`'s. */
export function tableKey(schema: string, table: string): string {
  return `${schema}\u0000${table}`.toLowerCase()
}

/**
 * The tables of the change stream, which names each by its schema: a model's table is in its `@@schema`, or else in
 * `defaultSchema` (the one unqualified names resolve to on the follower's connection), so a table of the same name
 * in another schema reaches nothing. An implicit many-to-many table counts in either model's schema: which one
 * Prisma puts it in is not known here, and a table that does not exist there is never changed.
 */
export function tablesBySchema(graph: ModelGraph, defaultSchema: string): SchemaTables {
  const reach = new Map<string, string[]>()
  const own = new Map<string, ModelInfo[]>()
  const add = (key: string, models: Iterable<string>) => {
    reach.set(key, [...new Set([...(reach.get(key) ?? []), ...models])])
  }
  const schemaOf = (model: string) => graph.models.get(model)?.schema ?? defaultSchema
  for (const model of graph.models.values()) {
    const key = tableKey(schemaOf(model.name), model.dbName)
    add(key, referencingModels(graph, model.name))
    own.set(key, [...(own.get(key) ?? []), model])
  }
  for (const [table, pair] of graph.joinTables) for (const model of pair) add(tableKey(schemaOf(model), table), pair)
  return { reach, own }
}
