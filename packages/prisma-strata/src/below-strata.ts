/**
 * The client one level below Strata. Inside an extension method, `this.$parent` is the client below the level
 * the call came through; when other extensions are stacked on top of Strata (`.$extends(cache()).$extends(x)`),
 * that is still a level that has Strata's own override, and calling it would recurse. So walk down until the
 * member is no longer ours.
 */
type Layer = { $parent?: Layer } & Record<string | symbol, unknown>

export function belowStrata<T>(start: Layer, read: (layer: Layer) => T, ours: T): { layer: Layer; value: T } {
  let layer = start
  let value = read(layer)
  while (value === ours && layer.$parent) {
    layer = layer.$parent
    value = read(layer)
  }
  return { layer, value }
}
