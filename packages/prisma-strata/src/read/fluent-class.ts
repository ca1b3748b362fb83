/**
 * Prisma's fluent API on a thenable of ours (`findUnique(...).posts()`): a subclass of `Base` with one method per
 * relation of `model`, each calling the instance's `fluent(field, args)`. Built once per base class, graph and model.
 */
import type { ModelGraph } from '../schema/model-graph'

// biome-ignore lint/suspicious/noExplicitAny: constructors of any shape
type Constructor = new (...args: any[]) => object

const built = new WeakMap<Constructor, WeakMap<ModelGraph, Map<string, Constructor>>>()

export function withRelationMethods<C extends Constructor>(Base: C, graph: ModelGraph, model: string): C {
  let byGraph = built.get(Base)
  if (!byGraph) {
    byGraph = new WeakMap()
    built.set(Base, byGraph)
  }
  let byModel = byGraph.get(graph)
  if (!byModel) {
    byModel = new Map()
    byGraph.set(graph, byModel)
  }
  let Fluent = byModel.get(model)
  if (!Fluent) {
    const Class = class extends Base {}
    for (const field of graph.models.get(model)?.relations.keys() ?? []) {
      Object.defineProperty(Class.prototype, field, {
        value(this: { fluent(f: string, a: unknown): unknown }, args?: unknown) {
          return this.fluent(field, args)
        },
      })
    }
    Fluent = Class
    byModel.set(model, Class)
  }
  return Fluent as C
}
