/**
 * The Redis side of write-through rows: one hash per row holds its version and its entries (one per partition);
 * aliases map another unique key's value to the primary key of the row that had it. Every call is one command
 * on one key (any Redis Cluster slot), bounded like every Redis call; `undefined`/false means Redis did not answer.
 */
import type { KeySpace } from './keys'
import { FAILED, type RedisTier } from './redis-tier'
import { bumpRow, putRow, readRow } from './scripts'
import { type Budget, TurnBatch } from './turn-batch'
import { isVersion } from './versions'

type RowReply = { version: number; frame: Buffer | undefined }

export class RowStore {
  /** Reads of one row's entry in one turn of the event loop share one call; so do lookups of one alias. */
  private readonly rowReads: TurnBatch<{ model: string; idText: string; field: string; ttlMs: number }, RowReply>
  private readonly aliasReads: TurnBatch<{ model: string; text: string }, string>

  constructor(
    private readonly redis: RedisTier,
    private readonly keys: KeySpace,
    private readonly origin: string,
  ) {
    this.rowReads = new TurnBatch(redis.timeoutMs, async (requests, deadline) => {
      const { model, idText, field } = requests[0] as (typeof requests)[0]
      const reply = await this.readNow(model, idText, field, Math.max(...requests.map((r) => r.ttlMs)), deadline)
      return requests.map(() => reply)
    })
    this.aliasReads = new TurnBatch(redis.timeoutMs, async (requests, deadline) => {
      const { model, text } = requests[0] as (typeof requests)[0]
      const key = this.keys.alias(model, text)
      const reply = await this.redis.guard('GET', () => this.redis.client.get(key), deadline, key)
      return requests.map(() => (typeof reply === 'string' ? reply : undefined))
    })
  }

  /** The row's version (seeded if the row has none) and its entry under `field`, if any. */
  read(model: string, idText: string, field: string, ttlMs: number, budget: Budget): Promise<RowReply | undefined> {
    return this.rowReads.request(`${model}|${idText}|${field}`, { model, idText, field, ttlMs }, budget)
  }

  private async readNow(
    model: string,
    idText: string,
    field: string,
    ttlMs: number,
    deadline: number,
  ): Promise<RowReply | undefined> {
    const reply = await this.redis.script(readRow, [this.keys.row(model, idText)], [field, String(Math.ceil(ttlMs))], {
      deadline,
      binary: true,
    })
    if (reply === FAILED || !Array.isArray(reply)) return undefined
    const version = Number(String(reply[0]))
    if (!isVersion(version)) return undefined
    return { version, frame: Buffer.isBuffer(reply[1]) ? reply[1] : undefined }
  }

  /** Drops the row's entries and gives it a new version, published on the bus under `name`. */
  async bump(model: string, idText: string, name: string, ttlMs: number): Promise<number | undefined> {
    const reply = await this.redis.script(
      bumpRow,
      [this.keys.row(model, idText)],
      [this.keys.channel, this.origin, name, String(Math.ceil(ttlMs))],
    )
    const version = reply === FAILED ? Number.NaN : Number(reply)
    return isVersion(version) ? version : undefined
  }

  /** Stores an entry read under `version`, unless a write has moved the row past it since. */
  async put(
    model: string,
    idText: string,
    version: number,
    field: string,
    frame: Buffer,
    ttlMs: number,
  ): Promise<boolean> {
    const reply = await this.redis.script(
      putRow,
      [this.keys.row(model, idText)],
      [String(version), field, frame, String(Math.max(1, Math.ceil(ttlMs)))],
    )
    return reply === 1
  }

  alias(model: string, text: string, budget: Budget): Promise<string | undefined> {
    return this.aliasReads.request(`${model}|${text}`, { model, text }, budget)
  }

  setAlias(model: string, text: string, idText: string, ttlMs: number): Promise<unknown> {
    const key = this.keys.alias(model, text)
    return this.redis.guard(
      'SET',
      () => this.redis.client.set(key, idText, 'PX', Math.max(1, Math.ceil(ttlMs))),
      undefined,
      key,
    )
  }

  dropAlias(model: string, text: string): Promise<unknown> {
    const key = this.keys.alias(model, text)
    return this.redis.guard('DEL', () => this.redis.client.del(key), undefined, key)
  }
}
