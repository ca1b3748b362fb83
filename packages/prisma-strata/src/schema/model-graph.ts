/**
 * What Strata knows of the data model: relations, and (when the schema text is available) which side holds the
 * foreign key and which referential actions apply. Reads use it to find their dependencies, writes to find every
 * model they can change.
 */

import type { ModelPolicy } from '../policy/model-policy'

export type ReferentialAction = 'Cascade' | 'SetNull' | 'SetDefault' | 'Restrict' | 'NoAction'

/** A relation field of a model, seen from that model. */
export interface RelationField {
  name: string
  /** The model at the other end. */
  target: string
  relationName: string
}

/** A foreign key: rows of `child` point at rows of `parent` through `fields` → `references`. */
export interface ForeignKey {
  child: string
  /** The relation field of `child` that declares the key (`author User @relation(fields: ...)`). */
  childField: string
  fields: string[]
  parent: string
  references: string[]
  onDelete: ReferentialAction
  onUpdate: ReferentialAction
}

export interface ModelInfo {
  name: string
  /** Table name in SQL (`@@map`), for raw statements. */
  dbName: string
  /** The PostgreSQL schema of its table (`@@schema`); undefined: the datasource's default schema. */
  schema: string | undefined
  relations: Map<string, RelationField>
  scalars: Set<string>
  /** The type of each scalar field (`Int`, `String`, `DateTime`...; `enum` for enums). */
  types: Map<string, string>
  /** Primary key fields, when the schema was read (empty otherwise). */
  id: string[]
  /** Every unique key (the primary key first), when the schema was read. */
  uniques: string[][]
  /** Compound unique keys (the primary key included) by the name a `where` gives them (`authorId_title`). */
  compound: Map<string, string[]>
  /**
   * Fields a read's equality can name precisely (precise invalidation): scalar, compared by value in the database,
   * of a type whose values Strata encodes exactly. Empty when the schema was not read.
   */
  exact: Set<string>
  /** `@updatedAt` fields: an update changes them even when its data does not name them. */
  updatedAt: string[]
  /** Scalar fields by column name (`@map`): rows from the database's change stream are keyed by column. */
  columns: Map<string, string>
}

export interface ModelGraph {
  models: Map<string, ModelInfo>
  /**
   * Foreign keys by the model they point at, or `undefined` when only Prisma's runtime data model was available:
   * then writes invalidate conservatively (every model reachable through relations).
   */
  foreignKeysTo: Map<string, ForeignKey[]> | undefined
  /** Implicit many-to-many join tables (`_PostToTag`) and the two models they link. */
  joinTables: Map<string, [string, string]>
}

interface RuntimeField {
  name: string
  kind: string
  type: string
  relationName?: string
  /** The column's name when it differs from the field's (`@map`). */
  dbName?: string | null
}

/** A model's primary key and unique keys (each a list of fields; the primary key is among the uniques). */
export interface ModelKeys {
  id: string[]
  uniques: string[][]
  /**
   * Scalar fields whose equality the database decides on the value alone: not lists, and no native type that
   * compares otherwise (`@db.Citext`, `@db.Char` padding, `@db.Uuid` letter case...); `@db.Text`/`@db.VarChar` are
   * plain. Absent when unknown.
   */
  plain?: string[]
  /** `@updatedAt` fields: every update changes them, whatever its data says. */
  updatedAt?: string[]
  /**
   * Compound keys (`@@id`/`@@unique` of two fields or more) by the name a `where` gives them: their `name:`, else
   * their fields joined by `_`. Absent when unknown: then no compound key names a row.
   */
  compound?: Record<string, string[]>
}

/** The shape of Prisma's `_runtimeDataModel`. */
export interface RuntimeDataModel {
  models: Record<string, { fields: RuntimeField[]; dbName?: string | null; schema?: string | null }>
}

/**
 * What `prisma-strata-generator` emits (`cache({ schema })`): the keys, foreign keys and referential actions
 * Prisma's runtime data model leaves out, and the `/// @cache(...)` policies.
 */
export interface StrataSchema {
  /** Format of the module. */
  version: 1
  models: Record<
    string,
    {
      dbName: string
      /** Primary key fields. */
      id: string[]
      /** Every unique key, single or compound, the primary key included. */
      uniques: string[][]
      /** Scalar fields whose equality is the value's (see `ModelKeys.plain`); absent from older modules. */
      plain?: string[]
      /** `@updatedAt` fields. */
      updatedAt?: string[]
      /** Compound keys by the name a `where` gives them; absent from modules of older generators. */
      compound?: Record<string, string[]>
      /** The `/// @cache(...)` policy, if the model has one. */
      policy?: ModelPolicy | false
      /** A `view`: computed by the database from tables Strata cannot see. */
      view?: boolean
    }
  >
  foreignKeys: ForeignKey[]
  /** Implicit many-to-many join tables and the two models each links. */
  joinTables: Record<string, [string, string]>
}

/** Builds the graph from Prisma's runtime data model, refined by foreign keys when the caller knows them. */
export function buildModelGraph(
  runtime: RuntimeDataModel,
  foreignKeys?: ForeignKey[],
  keys: Record<string, ModelKeys> = {},
  /** Whether the database compares text by value (not MySQL/MariaDB, whose default collations fold case). */
  exactText = true,
): ModelGraph {
  const models = new Map<string, ModelInfo>()
  for (const [name, model] of Object.entries(runtime.models)) {
    const relations = new Map<string, RelationField>()
    const scalars = new Set<string>()
    const types = new Map<string, string>()
    for (const field of model.fields) {
      if (field.kind === 'object' && field.relationName) {
        relations.set(field.name, { name: field.name, target: field.type, relationName: field.relationName })
      } else if (field.kind !== 'object') {
        scalars.add(field.name)
        types.set(field.name, field.kind === 'enum' ? 'enum' : field.type)
      }
    }
    const { id = [], uniques = [], plain = [], updatedAt = [], compound } = keys[name] ?? {}
    const exact = new Set(plain.filter((f) => exactType(types.get(f), exactText)))
    const columns = new Map<string, string>()
    for (const field of model.fields) if (field.kind !== 'object') columns.set(field.dbName ?? field.name, field.name)
    models.set(name, {
      name,
      dbName: model.dbName ?? name,
      schema: model.schema ?? undefined,
      relations,
      scalars,
      types,
      id,
      uniques,
      // A module of an older generator does not name them: compound keys then name no row (ordinary reads).
      compound: new Map(Object.entries(compound ?? {})),
      exact,
      updatedAt,
      columns,
    })
  }
  const joinTables = new Map<string, [string, string]>()
  const byRelation = new Map<string, string[]>()
  for (const model of models.values()) {
    for (const rel of model.relations.values()) {
      const key = rel.relationName
      byRelation.set(key, [...(byRelation.get(key) ?? []), model.name])
    }
  }
  let foreignKeysTo: Map<string, ForeignKey[]> | undefined
  if (foreignKeys) {
    foreignKeysTo = new Map()
    const withKey = new Set<string>()
    for (const fk of foreignKeys) {
      foreignKeysTo.set(fk.parent, [...(foreignKeysTo.get(fk.parent) ?? []), fk])
      const relationName = models.get(fk.child)?.relations.get(fk.childField)?.relationName
      if (relationName) withKey.add(relationName)
    }
    // A relation with no foreign key on either side is an implicit many-to-many (Prisma's `_AToB` table).
    for (const [relationName, sides] of byRelation) {
      const [a, b] = sides
      if (a && b && !withKey.has(relationName)) joinTables.set(`_${relationName}`, [a, b].sort() as [string, string])
    }
  }
  return { models, foreignKeysTo, joinTables }
}

/** Types whose values a read's equality and a row's value encode alike (not Float, Decimal, DateTime, Json, Bytes). */
function exactType(type: string | undefined, exactText: boolean): boolean {
  return (
    type === 'Int' || type === 'BigInt' || type === 'Boolean' || type === 'enum' || (type === 'String' && exactText)
  )
}

/** Every model reachable from `start` through relations, `start` included: the conservative write closure. */
export function connectedModels(graph: ModelGraph, start: string): Set<string> {
  const seen = new Set<string>([start])
  const queue = [start]
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    for (const rel of graph.models.get(name)?.relations.values() ?? []) {
      if (!seen.has(rel.target)) {
        seen.add(rel.target)
        queue.push(rel.target)
      }
    }
  }
  return seen
}

/**
 * `start` and every model whose rows point at it through foreign keys, transitively: what a referential action
 * starting at `start` can reach. Without foreign keys, every connected model.
 */
export function referencingModels(graph: ModelGraph, start: string): Set<string> {
  const keys = graph.foreignKeysTo
  if (!keys) return connectedModels(graph, start)
  const seen = new Set<string>([start])
  const queue = [start]
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    for (const child of keys.get(name)?.map((fk) => fk.child) ?? []) {
      if (!seen.has(child)) {
        seen.add(child)
        queue.push(child)
      }
    }
    for (const pair of graph.joinTables.values()) if (pair.includes(name)) for (const m of pair) seen.add(m)
  }
  return seen
}
