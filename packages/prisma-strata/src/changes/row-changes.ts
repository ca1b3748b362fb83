/**
 * Precise invalidation from the change stream: a change whose rows the stream carries in full (an insert's new row;
 * an update's or a delete's old row too, which PostgreSQL sends only for tables with `REPLICA IDENTITY FULL`) bumps
 * the predicates those rows match, as a Prisma write that knows its row does (design invariant 11,
 * docs/design.md). With no old row, the change bumps every predicate of its model.
 */
import { valueText } from '../read/predicates'
import type { ModelInfo } from '../schema/model-graph'
import { valueHash } from '../store/keys'
import { rowRequest } from '../store/row-request'

type Tuple = Record<string, unknown>

/** A value as the stream's parser gave it, as Prisma would (64-bit integers come as text). */
function prismaValue(type: string | undefined, value: unknown): unknown {
  if ((type === 'BigInt' || type === 'Int') && typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value)
  return value
}

/** The row request of one row of `info`'s table, keyed by column. */
function requestOf(info: ModelInfo, row: Tuple): string {
  const byField = new Map<string, unknown>()
  for (const [column, value] of Object.entries(row)) {
    const field = info.columns.get(column)
    if (field !== undefined) byField.set(field, value)
  }
  const fields: string[] = []
  const hashes: string[] = []
  for (const field of info.exact) {
    // A column the stream left out (an unchanged large value) is unknown: the script bumps its schemes whole.
    if (!byField.has(field)) continue
    const type = info.types.get(field)
    const text = valueText(type, prismaValue(type, byField.get(field)))
    if (text === undefined) continue
    fields.push(field)
    hashes.push(valueHash(text))
  }
  return rowRequest({ model: info.name, changed: '', fields: fields.join(','), hashes: hashes.join(','), kept: '' })
}

/** The row requests of an insert, update or delete message, or undefined when its rows are not known in full. */
export function rowRequestsOf(info: ModelInfo, message: Record<string, unknown>): string[] | undefined {
  const row = (key: string) => {
    const value = message[key]
    return typeof value === 'object' && value !== null ? (value as Tuple) : undefined
  }
  const rows =
    message.tag === 'insert'
      ? [row('new')]
      : message.tag === 'update'
        ? [row('old'), row('new')]
        : message.tag === 'delete'
          ? [row('old')]
          : [undefined]
  if (rows.some((r) => r === undefined)) return undefined
  return [...new Set((rows as Tuple[]).map((r) => requestOf(info, r)))]
}
