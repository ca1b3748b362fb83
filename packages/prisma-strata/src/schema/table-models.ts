/**
 * Which models a change to a table can reach: a model's table takes the model and what referential actions can
 * reach from it (a raw DELETE, a key UPDATE or a TRUNCATE ... CASCADE runs them in the database); an implicit
 * many-to-many join table (nothing references it) takes its two models. Raw SQL (write/raw-sql.ts) and the
 * database's change stream (changes/follower.ts) both map tables to models through here.
 */
import { type ModelGraph, referencingModels } from './model-graph'

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
