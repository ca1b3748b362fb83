/**
 * Row entries as a kind of entry for the tiered read (read/tiered-read.ts): a point read of a write-through model
 * is answered from its row's entry, projected to the read's selection. The snapshot is the model's versions plus
 * one script that reads the row's version and its entry at once. A fill reads the whole row with the read's own
 * `where` and stores it only if it is the row the snapshot was taken of; a later write's put cannot be replaced
 * by it (see row-entry.ts).
 */
import type { Engine } from '../engine'
import { readEntry } from '../read/entry-frame'
import type { EntryKind, Found, Snapshot, Stored } from '../read/entry-kind'
import { answer, type ReadCall } from '../read/read-call'
import { isRecord } from '../read/result-shape'
import type { StoredEntry } from '../store/codec'
import { rowsVersionName } from '../store/keys'
import { STOP } from '../store/leases'
import type { LocalEntry } from '../store/local-tier'
import type { Budget } from '../store/turn-batch'
import { dropAlias, type RowSlot, type RowVersions, setAlias, storeRow } from './row-entry'
import { project, type RowTarget, rowHasKey, rowIdText, wholeRow } from './row-target'

type Row = Record<string, unknown>

interface RowSnapshot extends Snapshot {
  versions: RowVersions
  /** The row's entry, read by the same script as its version; undefined if absent or not current. */
  frame: Buffer | undefined
}

export class RowEntry implements EntryKind<RowSnapshot> {
  readonly text: string
  readonly flightKey: string

  constructor(
    private readonly engine: Engine,
    readonly call: ReadCall,
    private readonly slot: RowSlot,
    private readonly target: RowTarget,
  ) {
    this.text = slot.text
    this.flightKey = `${slot.text}|${target.uniqueText ?? ''}`
  }

  detached(): RowEntry {
    return this.call.detached ? new RowEntry(this.engine, this.call.detached(), this.slot, this.target) : this
  }

  /** The names a write to which ends this process's sharing of older reads of the row. */
  deps(): readonly string[] {
    return [this.engine.modelVersionName(this.slot.model), rowsVersionName(this.slot.model), this.slot.rowName]
  }

  /** A row answers a read by id as is (even "no such row"); a read by another unique key only if it has the key. */
  answers(value: unknown): boolean {
    return this.target.idText !== undefined || (value !== null && rowHasKey(this.slot.info, value as Row, this.target))
  }

  /** The model's versions, the row epoch's, and the row's own read from Redis with its entry. */
  async snapshot(budget: Budget): Promise<RowSnapshot | undefined> {
    const { engine, slot } = this
    const names = [engine.modelVersionName(slot.model), rowsVersionName(slot.model)]
    const epoch = engine.versions.currentEpoch
    const models = await engine.versions.snapshot(names, budget)
    if (models === undefined) return undefined
    const [model = 0, rows = 0] = models
    if (!engine.rows) {
      const own = engine.versions.peek([slot.rowName])
      return own && snapshotOf({ model, rows, row: own[0] as number }, undefined)
    }
    const { ttlMs, swrMs, graceMs } = slot.policy
    const reply = await engine.rows.read(slot.model, slot.idText, slot.field, ttlMs + Math.max(swrMs, graceMs), budget)
    if (reply === undefined) return undefined
    const row = engine.versions.keep(slot.rowName, reply.version, epoch)
    // A bus message brought a later version while the reply travelled: the entry read is not current.
    return snapshotOf({ model, rows, row }, row === reply.version ? reply.frame : undefined)
  }

  isCurrent(entry: LocalEntry, snapshot: RowSnapshot): boolean {
    return entry.deps.every((name, i) => versionOf(this.slot, name, snapshot.versions) === entry.versions[i])
  }

  lookup(snapshot: RowSnapshot, deadline: number): Promise<Found | undefined> {
    return snapshot.frame ? this.fromFrame(snapshot.frame, snapshot.versions, deadline) : Promise.resolve(undefined)
  }

  /** The row's entry read again, unless the row has moved on (a write's put will answer instead) or Redis is away. */
  async probe(snapshot: RowSnapshot, deadline: number): Promise<Found | undefined | typeof STOP> {
    const { engine, slot } = this
    const reply = await engine.rows?.read(slot.model, slot.idText, slot.field, 1000, { deadline })
    if (reply === undefined || reply.version !== snapshot.versions.row) return STOP
    return reply.frame && this.fromFrame(reply.frame, snapshot.versions, deadline)
  }

  query(): PromiseLike<unknown> {
    return this.engine.loadRow(this.call.model, { where: this.call.args?.where, select: wholeRow(this.slot.info) })
  }

  /**
   * The row read is stored only if it is the row the snapshot was taken of (a read by id that found nothing stores
   * "no such row"); a read through an alias that found another row, or none, corrects or drops the alias.
   */
  store(snapshot: RowSnapshot, value: unknown, lease: string | undefined): Stored {
    const { engine, call, slot, target } = this
    const row = value as Row | null
    const rowId = row === null ? undefined : rowIdText(slot.info, row)
    // The answer's lifetime starts now, whether or not it is stored: a flight still landing shares it only within it.
    const times = engine.policies.times(slot.policy, undefined, row)
    let kept: ReturnType<typeof storeRow> | undefined
    if (row === null ? target.idText !== undefined : rowId === slot.idText) {
      kept = storeRow(engine, slot, row, snapshot.versions)
      if (kept.master !== undefined) engine.stats.fills++
    } else if (target.uniqueText !== undefined) {
      // The alias led to a row that no longer has this key: point it at the row that has it, or drop it.
      if (rowId !== undefined) setAlias(engine, call, target.uniqueText, rowId)
      else dropAlias(engine, call, target.uniqueText)
    }
    const stored = kept?.stored ?? Promise.resolve()
    // No version check at the lease's release: a put is refused anyway if a write moved the row meanwhile.
    const leases = engine.leases
    const landed = lease && leases ? stored.then(() => leases.release(slot.text, lease)) : stored
    engine.inBackground(landed)
    return { master: kept?.master, landed, times }
  }

  answer(value: unknown): unknown {
    const row = value as Row | null
    return answer(
      this.call,
      row === null ? null : project(row, this.call.args, this.engine.globalOmit(this.call.model)),
    )
  }

  /** The row of a Redis entry that is current under `versions` (kept locally too), or undefined. */
  private async fromFrame(frame: Buffer, versions: RowVersions, deadline: number): Promise<Found | undefined> {
    const { engine, slot } = this
    // The row's own version must be this one; the model's may be newer (a write this process has not heard of).
    const current = (entry: StoredEntry) =>
      entry.query === slot.text &&
      entry.deps.every((name, i) => {
        const expected = versionOf(slot, name, versions)
        const version = entry.versions[i] as number
        return name === slot.rowName ? version === expected : version >= expected
      })
    const read = readEntry(engine, frame, current, isRecord)
    if (!read) return undefined
    const { entry, value } = read
    // Newer model versions answer only if Redis holds them: an entry's own versions are never taken on trust.
    const newer = entry.deps.flatMap((name, i) =>
      name !== slot.rowName && entry.versions[i] !== versionOf(slot, name, versions) ? [i] : [],
    )
    if (newer.length > 0) {
      const names = newer.map((i) => entry.deps[i] as string)
      const values = newer.map((i) => entry.versions[i] as number)
      if (!(await engine.versions.confirm(names, values, deadline))) return undefined
    }
    engine.local?.set(slot.text, { value, deps: entry.deps, versions: entry.versions }, entry)
    return { value, times: entry }
  }
}

function snapshotOf(versions: RowVersions, frame: Buffer | undefined): RowSnapshot {
  return { versions, frame, stamp: [versions.row, versions.rows, versions.model] }
}

function versionOf(slot: RowSlot, name: string, versions: RowVersions): number {
  if (name === slot.rowName) return versions.row
  return name.startsWith('w:') ? versions.rows : versions.model
}
