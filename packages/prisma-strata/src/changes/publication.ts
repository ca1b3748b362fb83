/**
 * Whether the publication carries every change the follower must see. A publication that leaves out a model's table
 * (`FOR TABLE` of some tables), or an action (`publish = 'insert'`), or whose tables are in another schema than the
 * one the follower resolves the models to (a schema given to the driver adapter but not in the follower's URL),
 * would leave writes to those tables unseen while everything looks healthy: it is an error at start instead.
 */
import type { ModelGraph } from '../schema/model-graph'
import { tableKey } from '../schema/table-models'
import type { PgClient } from './postgres'

const ACTIONS = ['insert', 'update', 'delete', 'truncate'] as const

export interface Published {
  /** The actions the publication publishes. */
  actions: string[]
  /** The tables it publishes, by `tableKey`. */
  tables: Set<string>
}

export async function published(client: PgClient, publication: string): Promise<Published> {
  const { rows } = await client.query(
    'SELECT pubinsert, pubupdate, pubdelete, pubtruncate FROM pg_publication WHERE pubname = $1',
    [publication],
  )
  const flags = rows[0] ?? {}
  const actions = ACTIONS.filter((action) => flags[`pub${action}`] === true)
  const { rows: tables } = await client.query(
    'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1',
    [publication],
  )
  return { actions, tables: new Set(tables.map((t) => tableKey(String(t.schemaname), String(t.tablename)))) }
}

/** What the publication misses of the models' tables in `defaultSchema` (or their `@@schema`), or undefined. */
export function publicationProblem(
  found: Published,
  graph: ModelGraph,
  views: readonly string[],
  defaultSchema: string,
  publication: string,
): string | undefined {
  const missingActions = ACTIONS.filter((action) => !found.actions.includes(action))
  if (missingActions.length > 0) {
    return `the publication "${publication}" does not publish ${missingActions.join(', ')}: those changes would go unseen. Run ALTER PUBLICATION "${publication}" SET (publish = 'insert, update, delete, truncate').`
  }
  const schemaOf = (model: string) => graph.models.get(model)?.schema ?? defaultSchema
  const missing: string[] = []
  for (const model of graph.models.values()) {
    if (views.includes(model.name)) continue // not a table: its tables' changes are what make it change
    const schema = schemaOf(model.name)
    if (!found.tables.has(tableKey(schema, model.dbName))) missing.push(`${schema}.${model.dbName}`)
  }
  for (const [table, pair] of graph.joinTables) {
    // Prisma puts an implicit many-to-many table in one of its models' schemas.
    if (!pair.some((model) => found.tables.has(tableKey(schemaOf(model), table)))) {
      missing.push(`${schemaOf(pair[0])}.${table}`)
    }
  }
  if (missing.length === 0) return undefined
  const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, and ${missing.length - 5} more` : '')
  return (
    `the publication "${publication}" does not publish ${shown}: changes to ${missing.length === 1 ? 'it' : 'them'} would go unseen. ` +
    `Add ${missing.length === 1 ? 'it' : 'them'} (ALTER PUBLICATION "${publication}" ADD TABLE ...), or create the publication FOR ALL TABLES ` +
    `(\`npx prisma-strata changes setup\`). If the tables are in another schema than "${defaultSchema}", name it in ` +
    'changes.postgres.connectionString (`?schema=...`) as the driver adapter is told.'
  )
}
