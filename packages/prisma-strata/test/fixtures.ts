// The test schema's model graph, read from a generated client the way the extension reads it.
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from '../../../generated/sqlite/client/client.ts'
import type { PrismaInternals } from '../src/engine'
import { buildModelGraph, type ModelGraph } from '../src/schema/model-graph'
import { readSchemaText } from '../src/schema/schema-text'

const client = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ':memory:' }) }) as unknown as PrismaInternals

export const schemaText = client._engineConfig?.inlineSchema ?? ''

/** Prisma's runtime data model of the test schema. */
export const runtimeDataModel = client._runtimeDataModel

/** With foreign keys and referential actions read from the schema text. */
const facts = readSchemaText(schemaText)
export const preciseGraph: ModelGraph = buildModelGraph(client._runtimeDataModel, facts?.foreignKeys, facts?.keys)

/** From Prisma's runtime data model alone: relations, no foreign keys. */
export const conservativeGraph: ModelGraph = buildModelGraph(client._runtimeDataModel)
