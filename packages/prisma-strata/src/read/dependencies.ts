/**
 * The models a read depends on (design invariant 3, docs/design.md): the model itself, every model reached through
 * `include`/`select` (nested, `_count`), and every model named by relation filters in `where` and relation
 * ordering in `orderBy`. A write to any of them must make the cached result unreachable.
 */

import type { Args } from '../args'
import type { ModelGraph, ModelInfo } from '../schema/model-graph'

const relationFilterKeys = ['some', 'every', 'none', 'is', 'isNot']
const logicalKeys = ['AND', 'OR', 'NOT']

function isObject(value: unknown): value is Args {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function each(value: unknown, visit: (item: unknown) => void): void {
  if (Array.isArray(value)) for (const item of value) visit(item)
  else visit(value)
}

export function readDependencies(graph: ModelGraph, model: string, args: Args | undefined): string[] {
  return [...reachedModels(graph, model, args).add(model)].sort()
}

/**
 * The models `args` reach through relations: `model` itself only when a relation leads back to it (a self-relation,
 * a cycle), whose rows are then others than those the read's own filter names.
 */
export function reachedModels(graph: ModelGraph, model: string, args: Args | undefined): Set<string> {
  const deps = new Set<string>()
  if (args) visitArgs(graph, model, args, deps)
  return deps
}

/** `findMany`-shaped arguments on `model`: selection, filters and ordering. */
function visitArgs(graph: ModelGraph, model: string, args: Args, deps: Set<string>): void {
  const info = graph.models.get(model)
  if (!info) return
  visitSelection(graph, info, args.include, deps)
  visitSelection(graph, info, args.select, deps)
  visitWhere(graph, info, args.where, deps)
  visitWhere(graph, info, args.having, deps)
  visitOrderBy(graph, info, args.orderBy, deps)
}

function visitSelection(graph: ModelGraph, info: ModelInfo, selection: unknown, deps: Set<string>): void {
  if (!isObject(selection)) return
  for (const [key, value] of Object.entries(selection)) {
    if (!value) continue
    if (key === '_count') {
      // `_count: true` counts every list relation; `_count: { select: { posts: ... } }` the ones named.
      if (isObject(value) && isObject(value.select)) visitSelection(graph, info, value.select, deps)
      else for (const rel of info.relations.values()) deps.add(rel.target)
      continue
    }
    const rel = info.relations.get(key)
    if (!rel) continue
    deps.add(rel.target)
    if (isObject(value)) visitArgs(graph, rel.target, value, deps)
  }
}

function visitWhere(graph: ModelGraph, info: ModelInfo, where: unknown, deps: Set<string>): void {
  each(where, (clause) => {
    if (!isObject(clause)) return
    for (const [key, value] of Object.entries(clause)) {
      if (logicalKeys.includes(key)) {
        visitWhere(graph, info, value, deps)
        continue
      }
      const rel = info.relations.get(key)
      if (!rel) continue
      deps.add(rel.target)
      const target = graph.models.get(rel.target)
      if (!target || !isObject(value)) continue
      const filters = relationFilterKeys.filter((k) => k in value)
      if (filters.length) for (const k of filters) visitWhere(graph, target, value[k], deps)
      else visitWhere(graph, target, value, deps) // to-one shorthand: `{ author: { name: 'x' } }`
    }
  })
}

function visitOrderBy(graph: ModelGraph, info: ModelInfo, orderBy: unknown, deps: Set<string>): void {
  each(orderBy, (clause) => {
    if (!isObject(clause)) return
    for (const [key, value] of Object.entries(clause)) {
      const rel = info.relations.get(key)
      if (!rel) continue
      deps.add(rel.target)
      const target = graph.models.get(rel.target)
      if (target && isObject(value)) visitOrderBy(graph, target, value, deps)
    }
  })
}
