/**
 * prisma-strata-generator: reads Prisma's DMMF (which, unlike the client's runtime data model, has ids, unique
 * keys, foreign keys, referential actions and `///` documentation) and emits the module `cache({ schema })`
 * takes. A malformed `/// @cache(...)` annotation fails `prisma generate` with the model, the line and what is
 * allowed.
 */
import type { DMMF } from '@prisma/generator-helper'
import {
  type ForeignKey,
  type ModelPolicy,
  PLAIN_NATIVE,
  type ReferentialAction,
  readCacheAnnotation,
  type StrataSchema,
} from 'prisma-strata'

/** The line (1-based) of a model's (or view's) declaration in the schema text. */
function declarationLine(lines: string[], model: string): number {
  return lines.findIndex((line) => new RegExp(`^\\s*(model|view)\\s+${model}\\b`).test(line))
}

/** The line (1-based) of a model's `@cache` annotation, or of the model itself, in the schema text. */
function annotationLine(schemaText: string, model: string): number | undefined {
  const lines = schemaText.split('\n')
  const at = declarationLine(lines, model)
  if (at < 0) return undefined
  for (let i = at - 1; i >= 0 && /^\s*\/\/\//.test(lines[i] ?? ''); i--) {
    if (lines[i]?.includes('@cache')) return i + 1
  }
  return at + 1
}

/** Prisma's defaults when a relation names no action: SetNull for an optional key, Restrict for a required one. */
function referentialAction(value: string | undefined, fallback: ReferentialAction): ReferentialAction {
  return (value as ReferentialAction | undefined) ?? fallback
}

export class AnnotationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AnnotationError'
  }
}

/** The schema module's data, from the DMMF. `schemaText` and `schemaPath` only locate annotation errors. */
export function buildSchema(datamodel: DMMF.Datamodel, schemaText = '', schemaPath = 'schema.prisma'): StrataSchema {
  const schema: StrataSchema = { version: 1, models: {}, foreignKeys: [], joinTables: {} }
  const byRelation = new Map<string, string[]>()
  const withKey = new Set<string>()
  const names = datamodel.models.map((m) => m.name)
  // The DMMF lists views among the models; only the schema text tells them apart.
  const lines = schemaText.split('\n')
  const isView = (model: string) => /^\s*view\b/.test(lines[declarationLine(lines, model)] ?? '')
  for (const model of datamodel.models) {
    let policy: ModelPolicy | false | undefined
    const fail = (message: string) => {
      const line = annotationLine(schemaText, model.name)
      return new AnnotationError(`${schemaPath}${line ? `:${line}` : ''}: ${message}`)
    }
    try {
      policy = readCacheAnnotation(model.name, model.documentation)
    } catch (error) {
      throw fail((error as Error).message)
    }
    const unknown = policy === false ? undefined : policy?.dependsOn?.find((m) => !names.includes(m))
    if (unknown !== undefined) {
      throw fail(
        `/// @cache(...) on model ${model.name}: dependsOn names \`${unknown}\`, not a model. Models: ${names.join(', ')}.`,
      )
    }
    const id = [...(model.primaryKey?.fields ?? model.fields.filter((f) => f.isId).map((f) => f.name))]
    const uniques = [
      ...(id.length ? [id] : []),
      ...model.fields.filter((f) => f.isUnique).map((f) => [f.name]),
      ...model.uniqueFields.map((fields) => [...fields]),
    ]
    const plain = model.fields
      .filter((f) => f.kind !== 'object' && !f.isList && (!f.nativeType || PLAIN_NATIVE.has(f.nativeType[0])))
      .map((f) => f.name)
    const updatedAt = model.fields.filter((f) => f.isUpdatedAt).map((f) => f.name)
    // A compound key is named in a `where` by its `name:`, or by its fields joined with `_`.
    const compound: Record<string, string[]> = {}
    for (const key of [model.primaryKey, ...(model.uniqueIndexes ?? [])]) {
      if (key && key.fields.length > 1) compound[key.name ?? key.fields.join('_')] = [...key.fields]
    }
    schema.models[model.name] = {
      dbName: model.dbName ?? model.name,
      id,
      uniques,
      plain,
      updatedAt,
      compound,
      ...(policy !== undefined && { policy }),
      ...(isView(model.name) && { view: true }),
    }
    for (const field of model.fields) {
      if (field.kind !== 'object' || !field.relationName) continue
      byRelation.set(field.relationName, [...(byRelation.get(field.relationName) ?? []), model.name])
      if (!field.relationFromFields?.length) continue
      withKey.add(field.relationName)
      const optional = field.relationFromFields.some((name) => !model.fields.find((f) => f.name === name)?.isRequired)
      const fk: ForeignKey = {
        child: model.name,
        childField: field.name,
        fields: [...field.relationFromFields],
        parent: field.type,
        references: [...(field.relationToFields ?? [])],
        onDelete: referentialAction(field.relationOnDelete, optional ? 'SetNull' : 'Restrict'),
        onUpdate: referentialAction(field.relationOnUpdate, 'Cascade'),
      }
      schema.foreignKeys.push(fk)
    }
  }
  for (const [relationName, sides] of byRelation) {
    const [a, b] = sides
    if (a && b && !withKey.has(relationName)) schema.joinTables[`_${relationName}`] = [a, b].sort() as [string, string]
  }
  return schema
}

/**
 * The emitted module, for ES module and CommonJS apps alike: `index.js` (ESM) and `index.cjs`, their declarations,
 * and a `package.json` that routes `require('./generated/strata')` to the CommonJS file.
 */
export function renderModule(schema: StrataSchema): Record<string, string> {
  const banner = '// Generated by prisma-strata-generator from schema.prisma. Do not edit: run `prisma generate`.\n'
  const data = JSON.stringify(schema, null, 2)
  const declaration = `${banner}import type { StrataSchema } from 'prisma-strata'\n\nexport declare const schema: StrataSchema\n`
  const manifest = {
    type: 'module',
    main: './index.cjs',
    types: './index.d.ts',
    exports: {
      '.': {
        import: { types: './index.d.ts', default: './index.js' },
        require: { types: './index.d.cts', default: './index.cjs' },
      },
    },
  }
  return {
    'index.js': `${banner}/** @type {import('prisma-strata').StrataSchema} */\nexport const schema = ${data}\n`,
    'index.cjs': `${banner}'use strict'\n/** @type {import('prisma-strata').StrataSchema} */\nexports.schema = ${data}\n`,
    'index.d.ts': declaration,
    'index.d.cts': declaration,
    'package.json': `${JSON.stringify(manifest, null, 2)}\n`,
  }
}
