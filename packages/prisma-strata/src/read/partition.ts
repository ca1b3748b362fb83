/**
 * The partition a read is cached under, from `options.context`. Strings and numbers are kept apart (`'1'` and `1`
 * are two tenants); anything else (an object, a Promise from an `async` function, a boolean) would collapse
 * tenants through its text, so such a read is not cached and the fault is reported.
 */
import type { Engine } from '../engine'
import { ContextInvalidError, ContextMissingError } from '../errors'

/**
 * The partition text, or undefined when the read must bypass the cache (reported unless `report` is false).
 * Call only when `engine.context` is set.
 */
export function partitionOf(engine: Engine, model: string, report = true): string | undefined {
  let value: unknown
  try {
    value = (engine.context as () => unknown)()
  } catch (error) {
    if (report) engine.reporter.error(new ContextInvalidError(model, 'threw', error))
    return undefined
  }
  if (typeof value === 'string') return `s:${value}`
  if (typeof value === 'number' && Number.isFinite(value)) return `n:${value}`
  if (report) {
    if (value === undefined || value === null) engine.reporter.error(new ContextMissingError(model))
    else engine.reporter.error(new ContextInvalidError(model, `returned ${describe(value)}`))
  }
  return undefined
}

function describe(value: unknown): string {
  if (value instanceof Promise) return 'a Promise (an async function?)'
  if (typeof value === 'number') return `${value}`
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
