/**
 * A write's arguments with some fields of its returned row made sure to be there (selected, or not omitted), so
 * that Strata can read them off the result; and the result with those fields taken out again, as the caller
 * asked for it.
 */
import type { Args } from '../args'
import type { Engine } from '../engine'

function isPlainObject(value: unknown): value is Args {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The arguments to send, and the fields added to them (to take out of the result). */
export function withFields(
  engine: Engine,
  model: string,
  args: Args,
  fields: Iterable<string>,
): { sent: Args; added: string[] } {
  const added: string[] = []
  // A selection of nothing is Prisma's validation error: sent as it is, Prisma rejects the write before it runs.
  if (isPlainObject(args.select)) {
    if (!Object.values(args.select).some(Boolean)) return { sent: args, added }
    const select: Args = { ...args.select }
    for (const field of fields) {
      if (select[field] !== true) {
        select[field] = true
        added.push(field)
      }
    }
    return { sent: added.length ? { ...args, select } : args, added }
  }
  const omit = args.omit as Args | undefined
  const globalOmit = engine.globalOmit(model)
  const scalars = engine.graph.models.get(model)?.scalars
  if (scalars && [...scalars].every((field) => (omit?.[field] ?? globalOmit?.[field]) === true)) {
    return { sent: args, added }
  }
  let sentOmit: Args | undefined
  for (const field of fields) {
    if ((omit?.[field] ?? globalOmit?.[field]) === true) {
      sentOmit = { ...(sentOmit ?? omit), [field]: false }
      added.push(field)
    }
  }
  return { sent: sentOmit ? { ...args, omit: sentOmit } : args, added }
}

/** Whether `withFields` would add any of `fields` to the write's selection (and take it out of its answer). */
export function addsFields(engine: Engine, model: string, args: Args | undefined, fields: Iterable<string>): boolean {
  return withFields(engine, model, args ?? {}, fields).added.length > 0
}

/** Takes the added fields out of a result (Prisma answers `null` when it cannot read the row back). */
export function withoutFields<T>(result: T, added: readonly string[]): T {
  if (isPlainObject(result)) for (const field of added) delete result[field]
  return result
}
