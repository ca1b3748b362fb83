/**
 * A row request: what a write that knows its row sends to the bump script instead of version names (precise
 * invalidation, design invariant 11, docs/design.md). The script reads the model's registered schemes and bumps,
 * for each, the predicate the row matches (or the scheme's own version, when the write changed one of its fields
 * without knowing the old value). It travels as one string, so that owed bumps and transactions keep it like any
 * version name: `q:<model>|<changed fields>|<fields>|<value hashes>|<kept>`.
 */
import { predicatesVersionName } from './keys'

export interface RowRequest {
  model: string
  /** Fields the write set (or Prisma changes on update), whose old values are not known: comma-separated. */
  changed: string
  /** The row's exact fields and the hashes of their values, comma-separated, in the same order. */
  fields: string
  hashes: string
  /**
   * '1' when the row is known to stay in every predicate whose fields the write did not change (an update): the
   * membership versions of those predicates, which counts depend on, are left alone. 'l' when the row is known only
   * to leave the predicates its values match (a delete, a move's old values): their membership versions are bumped,
   * their arrivals versions are not. Otherwise (a create, an upsert, a move's new values, a change from the stream, a
   * request from before this field) the row may have entered or left them: both are bumped.
   */
  kept: Kept
}

export type Kept = '1' | 'l' | ''

export function rowRequest(request: RowRequest): string {
  return `q:${request.model}|${request.changed}|${request.fields}|${request.hashes}|${request.kept}`
}

export function isRowRequest(name: string): boolean {
  return name.startsWith('q:')
}

export function parseRowRequest(name: string): RowRequest | undefined {
  if (!isRowRequest(name)) return undefined
  const [model = '', changed = '', fields = '', hashes = '', kept = ''] = name.slice(2).split('|')
  return { model, changed, fields, hashes, kept: kept === '1' || kept === 'l' ? kept : '' }
}

/** The version every predicate entry of the request's model depends on (`e:Model`); undefined for a plain name. */
export function rowRequestEpoch(name: string): string | undefined {
  const request = parseRowRequest(name)
  return request && predicatesVersionName(request.model)
}
