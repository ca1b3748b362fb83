/**
 * Reads what Prisma's runtime data model leaves out (foreign keys, referential actions, `/// @cache(...)`
 * annotations) from the schema text that every generated client carries (`_engineConfig.inlineSchema`).
 * Anything it cannot read makes it return `undefined`, and Strata falls back to conservative invalidation.
 */
import { StrataOptionsError } from '../errors'
import { type ModelPolicy, validateModelPolicy } from '../options'
import type { ForeignKey, ModelKeys, ReferentialAction, StrataSchema } from './model-graph'

export interface SchemaFacts {
  foreignKeys: ForeignKey[]
  /** Keys by model: what tells a point read (`findUnique`) which row it reads. */
  keys: Record<string, ModelKeys>
  /** Policies from `/// @cache(...)` lines above a model. */
  policies: Record<string, ModelPolicy | false>
  /** Views (`view Name { ... }`): the database computes them from tables Strata cannot see. */
  views: string[]
}

const actions = new Set(['Cascade', 'SetNull', 'SetDefault', 'Restrict', 'NoAction'])

function list(attr: string, name: string): string[] | undefined {
  const match = new RegExp(`${name}\\s*:\\s*\\[([^\\]]*)\\]`).exec(attr)
  return match?.[1]
    ?.split(',')
    .map((s) => s.trim().replace(/\(.*$/, ''))
    .filter(Boolean)
}

function action(attr: string, name: string, fallback: ReferentialAction): ReferentialAction {
  const value = new RegExp(`${name}\\s*:\\s*(\\w+)`).exec(attr)?.[1]
  if (value === undefined) return fallback
  if (!actions.has(value)) throw new Error(`unknown referential action ${value}`)
  return value as ReferentialAction
}

/** The text between the parentheses that open at `open`, nested parentheses and strings respected. */
function balanced(text: string, open: number): string {
  let depth = 0
  let quoted = false
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted
    else if (!quoted && c === '(') depth++
    else if (!quoted && c === ')' && --depth === 0) return text.slice(open + 1, i)
  }
  throw new Error('unbalanced parentheses')
}

/** A number, a string (quoted or not) or a list of quoted strings. */
function annotationValue(raw: string, where: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw)
  if (!raw.startsWith('[')) return raw.replace(/^"(.*)"$/, '$1')
  try {
    return JSON.parse(raw)
  } catch {
    throw new StrataOptionsError(`${where}: a list is written ["Post", "User"], got ${raw}.`)
  }
}

/**
 * Parses `@cache(false)` or `@cache(ttl: 300, dependsOn: ["Post"])` into a policy, or throws saying what is
 * allowed.
 */
export function parseCacheAnnotation(model: string, body: string): ModelPolicy | false {
  const where = `/// @cache(${body}) on model ${model}`
  if (body.trim() === 'false') return false
  if (body.trim() === 'true' || body.trim() === '') return {}
  const policy: Record<string, unknown> = {}
  // Commas inside a list (`dependsOn: ["Post", "User"]`) do not separate pairs.
  for (const part of body.split(/,(?![^[]*\])/)) {
    const match = /^\s*(\w+)\s*:\s*(.+?)\s*$/.exec(part)
    if (!match) throw new StrataOptionsError(`${where}: expected key: value pairs, e.g. @cache(ttl: 300).`)
    const [, key = '', raw = ''] = match
    policy[key] = annotationValue(raw, where)
  }
  try {
    return validateModelPolicy(policy, '')
  } catch (error) {
    throw new StrataOptionsError(`${where}: ${(error as Error).message.replace(/^cache\(\): /, '')}`)
  }
}

/**
 * The policy of a model's `@cache(...)` annotation in its documentation (the `///` lines above it), or undefined
 * when it has none. Throws `StrataOptionsError` naming the model and what is allowed when it is malformed.
 */
export function readCacheAnnotation(model: string, documentation: string | undefined): ModelPolicy | false | undefined {
  const at = documentation?.search(/@cache\s*\(/) ?? -1
  if (!documentation || at < 0) return undefined
  try {
    return parseCacheAnnotation(model, balanced(documentation, documentation.indexOf('(', at)))
  } catch (error) {
    if (error instanceof StrataOptionsError) throw error
    throw new StrataOptionsError(`/// @cache(...) on model ${model}: unbalanced parentheses.`)
  }
}

/** `@id`/`@unique` fields and `@@id([...])`/`@@unique([...])` blocks of one model's body, and its plain fields. */
function modelKeys(body: string, models: ReadonlySet<string>): ModelKeys {
  let id: string[] = []
  const uniques: string[][] = []
  const plain: string[] = []
  const updatedAt: string[] = []
  const compound: Record<string, string[]> = {}
  for (const line of body.split('\n')) {
    const block = /^\s*@@(id|unique)\s*\(/.exec(line)
    if (block) {
      const inner = balanced(line, line.indexOf('('))
      const fields = list(inner, 'fields') ?? list(`fields: ${inner.slice(0, inner.indexOf(']') + 1)}`, 'fields')
      if (!fields) continue
      if (fields.length > 1) compound[/\bname\s*:\s*"([^"]*)"/.exec(inner)?.[1] ?? fields.join('_')] = fields
      if (block[1] === 'id') id = fields
      else uniques.push(fields)
      continue
    }
    const field = /^\s*(\w+)\s+(\w+)(\[\])?\??\s*(.*)$/.exec(line)
    if (!field) continue
    const [, name = '', type = '', listed, attrs = ''] = field
    if (/@id\b/.test(attrs)) id = [name]
    else if (/@unique\b/.test(attrs)) uniques.push([name])
    if (/@updatedAt\b/.test(attrs)) updatedAt.push(name)
    const native = /@db\.(\w+)/.exec(attrs)?.[1]
    if (!listed && !models.has(type) && (native === undefined || PLAIN_NATIVE.has(native))) plain.push(name)
  }
  return { id, uniques: id.length ? [id, ...uniques] : uniques, plain, updatedAt, compound }
}

/** Native types whose equality is the value's (no padding, no case folding, no normalising on input). */
export const PLAIN_NATIVE = new Set(['Text', 'VarChar', 'Integer', 'Int', 'BigInt', 'SmallInt', 'TinyInt', 'Boolean'])

/** Reads foreign keys and `@cache` policies; `undefined` if the text is not a schema it understands. */
export function readSchemaText(text: string | undefined): SchemaFacts | undefined {
  if (!text) return undefined
  const facts: SchemaFacts = { foreignKeys: [], keys: {}, policies: {}, views: [] }
  const blocks = /((?:^[ \t]*\/\/\/.*\n)*)^[ \t]*(model|view)\s+(\w+)\s*\{([\s\S]*?)^\s*\}/gm
  // A field whose type is a model is a relation, with or without `@relation`.
  const models = new Set([...text.matchAll(/^[ \t]*(?:model|view)\s+(\w+)\s*\{/gm)].map((m) => m[1] as string))
  try {
    for (let m = blocks.exec(text); m; m = blocks.exec(text)) {
      const [, docs = '', kind = '', model = '', body = ''] = m
      if (kind === 'view') facts.views.push(model)
      const policy = readCacheAnnotation(model, docs.replace(/^[ \t]*\/\/\/ ?/gm, ''))
      if (policy !== undefined) facts.policies[model] = policy
      facts.keys[model] = modelKeys(body, models)
      for (const line of body.split('\n')) {
        const field = /^\s*(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line)
        if (!field) continue
        const [, name = '', type = '', , optional, attrs = ''] = field
        const at = attrs.indexOf('@relation(')
        if (at < 0) continue
        const relation = balanced(attrs, at + '@relation'.length)
        const fields = list(relation, 'fields')
        const references = list(relation, 'references')
        if (!fields || !references) continue
        facts.foreignKeys.push({
          child: model,
          childField: name,
          fields,
          parent: type,
          references,
          onDelete: action(relation, 'onDelete', optional ? 'SetNull' : 'Restrict'),
          onUpdate: action(relation, 'onUpdate', 'Cascade'),
        })
      }
    }
  } catch (error) {
    if (error instanceof StrataOptionsError) throw error
    return undefined
  }
  return facts
}

/** The same facts, from the module `prisma-strata-generator` emits. */
export function schemaFacts(schema: StrataSchema): SchemaFacts {
  const policies: SchemaFacts['policies'] = {}
  for (const [model, info] of Object.entries(schema.models))
    if (info.policy !== undefined) policies[model] = info.policy
  const keys: SchemaFacts['keys'] = {}
  for (const [model, info] of Object.entries(schema.models)) {
    keys[model] = {
      id: info.id,
      uniques: info.uniques,
      plain: info.plain,
      updatedAt: info.updatedAt,
      ...(info.compound && { compound: info.compound }),
    }
  }
  const views = Object.keys(schema.models).filter((model) => schema.models[model]?.view === true)
  return { foreignKeys: schema.foreignKeys, keys, policies, views }
}
