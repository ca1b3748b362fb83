/**
 * The query hooks (`$extends({ query })`) a client runs for an operation, read off Prisma's merged extension list
 * (internal, stable across Prisma 7): which reads and writes extensions below or above Strata may rewrite.
 */
import { delegateName } from './schema/delegate-name'

type ExtensionList = { getAllQueryCallbacks?(model: string, op: string): unknown[] } | undefined

/** The model name Prisma lists the query callbacks of raw operations under. */
export const RAW = '$none'
export const rawOperations = [
  '$executeRaw',
  '$executeRawUnsafe',
  '$queryRaw',
  '$queryRawUnsafe',
  '$queryRawTyped',
] as const

/** The query callbacks for `model` (or `RAW`) and `operation` of a client, from the first extension added. */
export function queryCallbacks(layer: object, model: string, operation: string): unknown[] {
  const name = model === RAW ? RAW : delegateName(model)
  const list = (layer as { _extensions?: ExtensionList })._extensions
  return list?.getAllQueryCallbacks?.(name, operation) ?? []
}
