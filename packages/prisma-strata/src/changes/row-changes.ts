/**
 * Precise invalidation from the change stream: a change whose rows the stream carries in full (an insert's new row;
 * an update's or a delete's old row too, which PostgreSQL sends only for tables with `REPLICA IDENTITY FULL`) bumps
 * the predicates those rows match, as a Prisma write that knows its row does (design invariant 11,
 * docs/design.md). Without the old row, its replica identity key stands for it: predicates on the key alone are
 * bumped by value, every other scheme whole.
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

/**
 * The old row of an update or delete as far as the stream tells it: whole with `REPLICA IDENTITY FULL`; otherwise
 * only its replica identity key (the primary key by default), which PostgreSQL sends when the change moved or
 * deleted it and which is otherwise the new row's. The other fields are left out, so the script bumps every scheme
 * that names one of them whole, and only predicates on the key alone by value. Undefined when not even the key is
 * known (no replica identity).
 */
function oldRow(message: Record<string, unknown>, row: (key: string) => Tuple | undefined): Tuple | undefined {
  const full = row('old')
  if (full) return full
  const keyColumns = (message.relation as { keyColumns?: unknown } | undefined)?.keyColumns
  if (!Array.isArray(keyColumns) || keyColumns.length === 0) return undefined
  const from = row('key') ?? (message.tag === 'update' ? row('new') : undefined)
  if (!from) return undefined
  const key: Tuple = {}
  for (const column of keyColumns) {
    const value = from[String(column)]
    if (value === undefined || value === null) return undefined
    key[String(column)] = value
  }
  return key
}

/** The row requests of an insert, update or delete message, or undefined when its rows are not known enough. */
export function rowRequestsOf(info: ModelInfo, message: Record<string, unknown>): string[] | undefined {
  const row = (key: string) => {
    const value = message[key]
    return typeof value === 'object' && value !== null ? (value as Tuple) : undefined
  }
  const rows =
    message.tag === 'insert'
      ? [row('new')]
      : message.tag === 'update'
        ? [oldRow(message, row), row('new')]
        : message.tag === 'delete'
          ? [oldRow(message, row)]
          : [undefined]
  if (rows.some((r) => r === undefined)) return undefined
  return [...new Set((rows as Tuple[]).map((r) => requestOf(info, r)))]
}
