/**
 * The version names a query entry depends on, derived from the read (design invariant 3, docs/design.md): the models
 * it reads whole, the predicates it reads by (precise invalidation), its tags; and for a list of rows by key, what
 * its fine entries depend on besides their rows (`FineList`, `fineNames`). Memoised by query text.
 */
import type { Engine } from '../engine'
import {
  arrivalsVersionName,
  membershipVersionName,
  predicateNamer,
  predicatesVersionName,
  registryVersionName,
  schemeVersionName,
  tagVersionNames,
  valueHash,
} from '../store/keys'
import { readDependencies } from './dependencies'
import { readFootprint, valueText } from './predicates'
import type { ReadCall } from './read-call'

export type Dependencies = { names: string[]; schemes: Array<readonly [string, string]>; fine?: FineList }

/** What a fine list entry depends on besides its rows (see `ListedRows`). */
export interface FineList {
  /**
   * The read's names, with its root predicate's arrivals versions (membership versions, if it skips rows) instead
   * of its contents', and the key scheme's; sorted.
   */
  base: string[]
  /** The primary key's fields, sorted (the key scheme), and their types. */
  key: string[]
  types: Array<string | undefined>
  /** The name of a row's key predicate (of the list's model), from its key's value texts (key order). */
  rowName: (texts: readonly string[]) => string
}

/**
 * The names a fine list entry holding `value` depends on: the list's own and, for each row, the version of its key
 * (a row's key predicate, bumped by every write to the row). Undefined when a row does not carry its key.
 */
export function fineNames(fine: FineList, value: unknown): string[] | undefined {
  // Run on every Redis hit of a list (its names are checked against the entry's): the base is sorted once, and each
  // row's name is a memo lookup by its key's texts (no JSON, iterator or set per row).
  const rows = Array.isArray(value) ? value : value === null ? [] : [value]
  const { key, types, rowName } = fine
  const own: string[] = []
  for (const row of rows) {
    if (typeof row !== 'object' || row === null) return undefined
    const texts: string[] = []
    for (let i = 0; i < key.length; i++) {
      const text = valueText(types[i], (row as Record<string, unknown>)[key[i] as string])
      if (text === undefined || text === 'n') return undefined
      texts.push(text)
    }
    own.push(rowName(texts))
  }
  return mergeSorted(fine.base, own.sort())
}

/** The names of two sorted lists, sorted, each once. */
function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    const x = a[i]
    const y = b[j]
    let next: string
    if (y === undefined || (x !== undefined && x <= y)) {
      next = x as string
      i++
    } else {
      next = y
      j++
    }
    if (out[out.length - 1] !== next) out.push(next)
  }
  return out
}

/** Dependencies by query text, per engine: a read's dependencies follow from its text (bounded; then it starts over). */
const byText = new WeakMap<Engine, Map<string, Dependencies>>()
const MAX_MEMOISED = 2_000

export function memoised(engine: Engine, call: ReadCall, text: string): Dependencies {
  // A named entry's text does not hold its arguments.
  if (call.query?.key !== undefined) return dependencies(engine, call)
  let memo = byText.get(engine)
  if (memo === undefined) {
    memo = new Map<string, Dependencies>()
    byText.set(engine, memo)
  }
  let found = memo.get(text)
  if (found === undefined) {
    if (memo.size >= MAX_MEMOISED) memo.clear()
    found = dependencies(engine, call)
    memo.set(text, found)
  }
  return found
}

/**
 * The version names a read depends on: each model it reads whole (`m:Model`), and for each predicate (precise
 * invalidation) the model's predicate epoch and registry version, the scheme's version and each value combination's.
 */
function dependencies(engine: Engine, call: ReadCall): Dependencies {
  const names = new Set<string>()
  const schemes = new Map<string, readonly [string, string]>()
  const { models, predicates, rows } = engine.readsByPredicate(call.model)
    ? readFootprint(engine.graph, call.model, call.args, (m) => engine.readsByPredicate(m), call.operation)
    : { models: new Set(readDependencies(engine.graph, call.model, call.args)), predicates: [], rows: undefined }
  /** The contents' versions of the listed predicate, and those other predicates name too. */
  const listed = new Set<string>()
  const alsoElsewhere = new Set<string>()
  const precise = new Set(predicates.map((p) => p.model))
  // Models named by `dependsOn` are read whole; a model read by predicate is not also read whole.
  for (const model of engine.policies.withSources([...models, ...precise])) {
    if (models.has(model) || !precise.has(model)) names.add(engine.modelVersionName(model))
  }
  for (const { model, fields, tuples, members } of predicates) {
    const scheme = fields.join(',')
    schemes.set(`${model}|${scheme}`, [model, scheme])
    names.add(predicatesVersionName(model)).add(registryVersionName(model)).add(schemeVersionName(model, scheme))
    // A count sees rows enter and leave, a read of rows sees any change to them (membership included).
    const nameOf = members ? undefined : predicateNamer(model, scheme)
    for (const tuple of tuples) {
      const name = nameOf ? nameOf(tuple) : membershipVersionName(model, scheme, tuple.map(valueHash))
      names.add(name)
      if (rows) (rows.predicate.tuples === tuples ? listed : alsoElsewhere).add(name)
    }
  }
  if (call.query?.tags) for (const name of tagVersionNames(call.query.tags)) names.add(name)
  const found: Dependencies = { names: [...names].sort(), schemes: [...schemes.values()] }
  if (rows) {
    // The rows' key predicates are bumped by writes only once the key scheme is registered: before the SQL, with
    // the read's own schemes.
    const { model, fields, tuples } = rows.predicate
    const key = [...rows.key].sort()
    const keyScheme = key.join(',')
    found.schemes.push([model, keyScheme])
    const base = new Set(found.names.filter((name) => !listed.has(name) || alsoElsewhere.has(name)))
    const moves = rows.skips ? membershipVersionName : arrivalsVersionName
    for (const tuple of tuples) base.add(moves(model, fields.join(','), tuple.map(valueHash)))
    base.add(schemeVersionName(model, keyScheme))
    const types = key.map((field) => engine.graph.models.get(model)?.types.get(field))
    found.fine = { base: [...base].sort(), key, types, rowName: predicateNamer(model, keyScheme) }
  }
  return found
}
