// The generator: the module it emits for the test schema, its agreement with what the extension reads from the
// client's schema text, and `prisma generate` failing on malformed annotations with the model, line and what to fix.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DMMF } from '@prisma/generator-helper'
import { describe, expect, it } from 'vitest'
import { readSchemaText } from '../../prisma-strata/src/schema/schema-text'
import { buildSchema } from '../src/index'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const bin = join(root, 'packages', 'prisma-strata-generator', 'dist', 'bin.js')

describe('emitted module (prisma/models.prisma, after `pnpm generate`)', () => {
  it('has keys, foreign keys with referential actions, join tables and policies', async () => {
    const { schema } = await import(join(root, 'generated', 'sqlite', 'strata', 'index.js'))
    expect(schema.version).toBe(1)
    expect(schema.models.Membership).toMatchObject({ id: ['userId', 'teamId'], uniques: [['userId', 'teamId']] })
    expect(schema.models.Post.uniques).toEqual([['id'], ['authorId', 'title']])
    expect(schema.models.User).toMatchObject({ uniques: [['id'], ['email']], policy: { ttl: 300 } })
    expect(schema.models.AuditLog.policy).toBe(false)
    expect(schema.models.PostStats).toMatchObject({ view: true, policy: { dependsOn: ['Post'] } })
    expect(schema.models.Post.view).toBeUndefined()
    expect(schema.joinTables).toEqual({ _PostToTag: ['Post', 'Tag'] })
    expect(schema.foreignKeys).toContainEqual({
      child: 'User',
      childField: 'invitedBy',
      fields: ['invitedById'],
      parent: 'User',
      references: ['id'],
      onDelete: 'SetNull',
      onUpdate: 'Cascade',
    })
    expect(
      schema.foreignKeys.find((fk: { child: string }) => fk.child === 'Comment' && fk.parent === 'Post')?.onDelete,
    ).toBe('Cascade')
  })

  it('loads from CommonJS as well: require() of the output folder gives the same schema', async () => {
    const dir = join(root, 'generated', 'sqlite', 'strata')
    const { schema } = await import(join(dir, 'index.js'))
    expect(createRequire(import.meta.url)(dir).schema).toEqual(schema)
  })

  it('agrees with what the extension reads from the schema text when there is no module', async () => {
    const { schema } = await import(join(root, 'generated', 'postgres', 'strata', 'index.js'))
    const text = readFileSync(join(root, 'generated', 'postgres', 'schema.prisma'), 'utf8')
    const facts = readSchemaText(text)
    const sort = (fks: Array<{ child: string; childField: string }>) =>
      [...fks].sort((a, b) => `${a.child}.${a.childField}`.localeCompare(`${b.child}.${b.childField}`))
    expect(sort(schema.foreignKeys)).toEqual(sort(facts?.foreignKeys ?? []))
  })
})

/** A schema file of `models` whose generator writes to `out`: the models start on line 11. */
const schemaFile = (models: string, out: string) =>
  `datasource db {\n  provider = "sqlite"\n}\n\ngenerator strata {\n  provider = "node ${bin}"\n  output   = "${out}"\n  previewFeatures = ["views"]\n}\n\n${models}`

/** Runs `prisma generate` on `models` (the CLI, Prisma's DMMF, our generator); returns the emitted `index.js`. */
function generate(models: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-gen-'))
  try {
    const path = join(dir, 'schema.prisma')
    writeFileSync(path, schemaFile(models, join(dir, 'out')))
    execFileSync(join(root, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', path], {
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      stdio: 'pipe',
      encoding: 'utf8',
    })
    return readFileSync(join(dir, 'out', 'index.js'), 'utf8')
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string }
    throw new Error(`${e.stdout ?? ''}${e.stderr ?? ''}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('prisma generate with annotations', () => {
  it('emits the policy of a valid annotation', () => {
    expect(generate('/// A note.\n/// @cache(ttl: 30, swr: 5)\nmodel A {\n  id Int @id\n}\n')).toContain('"swr": 5')
  })

  it('emits the write-through strategy', () => {
    const module = generate('/// @cache(ttl: 300, swr: 60, strategy: "write-through")\nmodel A {\n  id Int @id\n}\n')
    expect(module).toContain('"strategy": "write-through"')
  })

  it('names compound keys as a `where` does, and as the extension reads them from the schema text', () => {
    const models =
      'model A {\n  a Int\n  b Int\n  c Int\n  @@id([a, b], name: "ab")\n  @@unique([b, c])\n  @@unique([a, c], name: "ac")\n}\n'
    const module = generate(models)
    const emitted = JSON.parse(module.slice(module.indexOf('= {') + 2, module.lastIndexOf('}') + 1))
    expect(emitted.models.A.compound).toEqual({ ab: ['a', 'b'], b_c: ['b', 'c'], ac: ['a', 'c'] })
    expect(readSchemaText(schemaFile(models, 'out'))?.keys.A?.compound).toEqual(emitted.models.A.compound)
  })

  it('emits the models a view depends on, and marks it a view', () => {
    const module = generate(
      'model A {\n  id Int @id\n}\n\nmodel B {\n  id Int @id\n}\n\n/// @cache(ttl: 30, dependsOn: ["A", "B"])\nview V {\n  id Int @unique\n}\n',
    )
    expect(module).toMatch(/"dependsOn": \[\s*"A",\s*"B"\s*\]/)
    expect(module).toContain('"view": true')
  })

  // What `prisma generate` prints when an annotation is wrong (the generator's error, with the file and line).
  it('fails on a malformed annotation with the line, the model and what is allowed', () => {
    expect(() => generate('/// @cache(dependsOn: ["Nope"])\nmodel A {\n  id Int @id\n}\n')).toThrow(
      /schema\.prisma:11: .*model A.*dependsOn names `Nope`, not a model\. Models: A/,
    )
  })
})

/**
 * `buildSchema` given what `prisma generate` gives the generator for the model `A` under `annotation`: the schema
 * text and its DMMF (the `///` comment as the model's documentation). The test above shows an annotation error
 * reaching the user through the CLI; these check each message.
 */
function annotated(annotation: string) {
  const id = { name: 'id', kind: 'scalar', type: 'Int', isId: true, isUnique: false, isList: false, isRequired: true }
  const model = {
    name: 'A',
    dbName: null,
    documentation: annotation.replace(/^\/\/\/ ?/, ''),
    fields: [{ ...id, isUpdatedAt: false }],
    uniqueFields: [],
    primaryKey: null,
  }
  const text = schemaFile(`${annotation}\nmodel A {\n  id Int @id\n}\n`, 'out')
  return buildSchema({ models: [model], enums: [], types: [] } as unknown as DMMF.Datamodel, text, 'schema.prisma')
}

describe('annotation errors', () => {
  it.each([
    ['/// @cache(dependsOn: "A")', /schema\.prisma:11: .*model A.*dependsOn.*must be a list of model names/],
    ['/// @cache(dependsOn: [A])', /schema\.prisma:11: .*model A.*a list is written \["Post", "User"\]/],
    ['/// @cache(ttl: "soon")', /schema\.prisma:11: .*model A.*ttl.*must be a positive number, got "soon"/],
    [
      '/// @cache(tll: 30)',
      /schema\.prisma:11: .*model A.*`tll` is not an option\. Allowed: ttl, negativeTtl, swr, grace, strategy/,
    ],
    [
      '/// @cache(strategy: "write-back")',
      /schema\.prisma:11: .*model A.*strategy.*must be "invalidate" or "write-through", got "write-back"/,
    ],
    ['/// @cache(ttl: -1)', /schema\.prisma:11: .*must be a positive number, got -1/],
    ['/// @cache(ttl 30)', /schema\.prisma:11: .*expected key: value pairs/],
  ])('fails on %s with the line, the model and what is allowed', (annotation, message) => {
    expect(() => annotated(annotation)).toThrow(message)
  })

  it('accepts a valid annotation as the CLI does', () => {
    expect(annotated('/// @cache(ttl: 30, swr: 5)').models.A?.policy).toMatchObject({ ttl: 30, swr: 5 })
  })
})
