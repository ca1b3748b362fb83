/**
 * A write-through row entry: the whole row (every scalar field), stored under the row's version and the model's
 * row epoch (`w:Model`, bumped by writes that cannot name their rows). A "no such row" entry also depends on the
 * model version, which every create bumps. Stores never replace a newer row: in Redis the put is refused unless
 * the row is still at the version it was read under; locally an entry under a later row version is kept.
 */
import type { Engine } from '../engine'
import type { EffectivePolicy } from '../policy/policy'
import { copyResult } from '../read/copy-result'
import type { ReadCall } from '../read/read-call'
import type { ModelInfo } from '../schema/model-graph'
import { encodeEntry, encodeValue } from '../store/codec'
import { rowsVersionName, rowVersionName } from '../store/keys'
import { keyText } from './row-target'

type Row = Record<string, unknown>

/** Where one row's entry lives, for one partition. */
export interface RowSlot {
  model: string
  info: ModelInfo
  idText: string
  /** The local key, and the text the Redis frame must carry. */
  text: string
  /** The row hash field of this partition's entry. */
  field: string
  readonly rowName: string
  partition: string | undefined
  policy: EffectivePolicy
}

export function rowSlot(
  model: string,
  info: ModelInfo,
  idText: string,
  partition: string | undefined,
  policy: EffectivePolicy,
): RowSlot {
  const scope = partition === undefined ? '' : `${JSON.stringify(partition)}|`
  let rowName: string | undefined
  return {
    model,
    info,
    idText,
    text: `${scope}row|${model}|${idText}`,
    field: partition === undefined ? 'd' : `d|${partition}`,
    // A hash: computed only off the hit path (a local hit checks the versions its entry stores).
    get rowName() {
      rowName ??= rowVersionName(model, idText)
      return rowName
    },
    partition,
    policy,
  }
}

export function aliasText(model: string, partition: string | undefined, uniqueText: string): string {
  return `${partition === undefined ? '' : `${JSON.stringify(partition)}|`}alias|${model}|${uniqueText}`
}

/** The versions a row entry is filled under: its row's, the row epoch's and (for "no such row") the model's. */
export interface RowVersions {
  row: number
  rows: number
  model: number
}

function depsOf(engine: Engine, slot: RowSlot, row: Row | null, v: RowVersions) {
  const rows = rowsVersionName(slot.model)
  if (row !== null) return { deps: [slot.rowName, rows], versions: [v.row, v.rows] }
  return { deps: [engine.modelVersionName(slot.model), slot.rowName, rows], versions: [v.model, v.row, v.rows] }
}

/**
 * Stores `row` (or "no such row") in both tiers and the aliases of its other unique keys. Resolves once Redis
 * has the entry (or refused it, or failed); returns the master copy kept locally, or undefined if not cacheable.
 */
export function storeRow(
  engine: Engine,
  slot: RowSlot,
  row: Row | null,
  versions: RowVersions,
): { master: Row | null | undefined; stored: Promise<unknown> } {
  let bytes: Uint8Array
  try {
    bytes = encodeValue(row)
  } catch (error) {
    engine.reporter.codec('a row could not be encoded; it was not cached', error)
    return { master: undefined, stored: Promise.resolve() }
  }
  if (bytes.byteLength > engine.maxEntryBytes) {
    engine.reporter.tooLarge(bytes.byteLength)
    return { master: undefined, stored: Promise.resolve() }
  }
  const { deps, versions: values } = depsOf(engine, slot, row, versions)
  const times = engine.policies.times(slot.policy, undefined, row)
  const master = copyResult(row)
  const local = engine.local
  const held = local?.get(slot.text)
  const heldRow = held ? (held.versions[held.deps.indexOf(slot.rowName)] ?? 0) : 0
  // A later write's row is already here: an entry read under an earlier version must not replace it.
  if (local && !(heldRow > versions.row)) {
    local.set(slot.text, { value: master, deps, versions: values }, times)
  }
  const stores: Promise<unknown>[] = []
  if (engine.rows) {
    const frame = encodeEntry({ query: slot.text, deps, versions: values, ...times, value: bytes })
    const ttl = times.expiresAt - Date.now()
    stores.push(engine.rows.put(slot.model, slot.idText, versions.row, slot.field, frame, ttl))
  }
  if (row !== null) stores.push(storeAliases(engine, slot, row, times.expiresAt - Date.now()))
  return { master, stored: Promise.all(stores) }
}

/** Every other unique key of the row → its primary key: later reads by those keys find the row. */
function storeAliases(engine: Engine, slot: RowSlot, row: Row, ttlMs: number): Promise<unknown> {
  const { info } = slot
  const stores: Promise<unknown>[] = []
  for (const unique of info.uniques) {
    if (unique.length === info.id.length && unique.every((f) => info.id.includes(f))) continue
    const text = keyText(
      info,
      unique,
      unique.map((f) => row[f]),
    )
    if (text === undefined) continue
    stores.push(storeAlias(engine, slot.model, slot.partition, text, slot.idText, ttlMs))
  }
  return Promise.all(stores)
}

/** Records, in both tiers, that the row with primary key `idText` has the unique key value `uniqueText`. */
export function storeAlias(
  engine: Engine,
  model: string,
  partition: string | undefined,
  uniqueText: string,
  idText: string,
  ttlMs: number,
): Promise<unknown> {
  const alias = aliasText(model, partition, uniqueText)
  const now = Date.now()
  const times = { freshUntil: now + ttlMs, staleUntil: now + ttlMs, expiresAt: now + ttlMs }
  // An alias is a hint checked against the row it names: it depends on no version.
  engine.local?.set(alias, { value: idText, deps: [], versions: [] }, times)
  return engine.rows ? engine.rows.setAlias(model, alias, idText, ttlMs) : Promise.resolve()
}

/** Points the alias of `uniqueText` at the row `idText`, in the background. */
export function setAlias(engine: Engine, call: ReadCall, uniqueText: string, idText: string): void {
  engine.inBackground(storeAlias(engine, call.model, call.partition, uniqueText, idText, call.policy.ttlMs))
}

/** Drops the alias of `uniqueText`: no row has that key any more. */
export function dropAlias(engine: Engine, call: ReadCall, uniqueText: string): void {
  const text = aliasText(call.model, call.partition, uniqueText)
  engine.local?.delete(text)
  if (engine.rows) engine.inBackground(engine.rows.dropAlias(call.model, text))
}
