// An in-memory stand-in for the ioredis client, for unit tests on fake timers: one server (keys with PX expiry on
// the faked clock, pub/sub), connections made from it, and switches for the failures Strata must survive. Strata's
// Lua scripts are modelled by what they promise (see src/store/scripts.ts), not run; the integration tests run
// the real ones against a real Redis.
import { createHash } from 'node:crypto'
import type { RedisClient } from '../src/store/redis-client'
import { bumpVersions, leaseAllowsFill, readVersions, releaseLease } from '../src/store/scripts'

// biome-ignore lint/suspicious/noExplicitAny: listeners of any shape, as the client interface declares them
type Listener = (...args: any[]) => void
type Arg = string | Buffer | number

/**
 * `up` answers; `down` refuses at once (connection closed); `hang` never answers (a stalled server); `slow` answers
 * only at `resume()`.
 */
export type Health = 'up' | 'down' | 'hang' | 'slow'

const sha = (source: string) => createHash('sha1').update(source).digest('hex')
const scripts = new Map([readVersions, bumpVersions, leaseAllowsFill, releaseLease].map((s) => [sha(s), s]))

class Server {
  readonly keys = new Map<string, { value: string; expiresAt: number }>()
  readonly connections: FakeRedis[] = []
  /** Every PUBLISH, in order: `channel message`. */
  readonly published: Array<{ channel: string; message: string }> = []
  /** The version keys of every bump script call that ran, in order. */
  readonly bumps: string[][] = []

  read(key: string): string | undefined {
    const entry = this.keys.get(key)
    if (entry && entry.expiresAt <= Date.now()) this.keys.delete(key)
    return this.keys.get(key)?.value
  }

  write(key: string, value: string, ttlMs = Number.POSITIVE_INFINITY): void {
    this.keys.set(key, { value, expiresAt: Date.now() + ttlMs })
  }

  /** Redis TIME in µs, as the version scripts seed. */
  time(): number {
    return Date.now() * 1000
  }

  publish(channel: string, message: string): number {
    this.published.push({ channel, message })
    let receivers = 0
    for (const connection of this.connections) if (connection.deliver(channel, message)) receivers++
    return receivers
  }

  run(source: string, keys: string[], args: string[]): unknown {
    if (source === readVersions) {
      // ARGV: ttl, n, channel, origin, then model/schemes pairs (registration is not modelled here); KEYS after the
      // n version keys and the pairs' two keys each are entry keys, read along.
      const n = Number(args[1])
      const entriesAt = 1 + n + (args.length - 4)
      const versions = keys.slice(1, 1 + n).map((key) => {
        const stored = this.read(key)
        if (stored !== undefined) return Number(stored)
        const seed = this.time()
        this.write(key, String(seed))
        return seed
      })
      return [...versions, ...keys.slice(entriesAt).map((key) => this.read(key) ?? null)]
    }
    if (source === bumpVersions) {
      // ARGV: channel, origin, ttl, count of names, key prefix, names (row requests are not modelled here).
      const [channel, origin, , count, , ...rest] = args
      const names = rest.slice(0, Number(count))
      const plainKeys = keys.slice(1, 1 + Number(count))
      this.bumps.push(plainKeys)
      const out = plainKeys.map((key) => {
        const next = Math.max(Number(this.read(key) ?? 0) + 1, this.time())
        this.write(key, String(next))
        return next
      })
      this.publish(channel as string, [origin, ...names.flatMap((name, i) => [name, String(out[i])])].join(' '))
      return out
    }
    if (source === leaseAllowsFill) {
      if (this.read(keys[0] as string) !== args[0]) return 0
      return keys.slice(1).every((key, i) => Number(this.read(key)) === Number(args[i + 1])) ? 1 : 0
    }
    if (source === releaseLease) {
      if (this.read(keys[0] as string) !== args[0]) return 0
      this.keys.delete(keys[0] as string)
      return 1
    }
    throw new Error('fake Redis: unknown script')
  }
}

export class FakeRedis implements RedisClient {
  health: Health = 'up'
  /** A subscriber that is connected but receives nothing: a half-open TCP connection. */
  deaf = false
  /** While set, messages for this subscriber wait in `held` until `release` (a slow network). */
  holding = false
  readonly held: Array<{ channel: string; message: string }> = []
  /** Commands this connection was asked to run, in order: the command, then its first argument. */
  readonly calls: string[] = []
  /** `disconnect` calls: whether each asked to reconnect. */
  readonly disconnects: boolean[] = []
  readonly subscribed = new Set<string>()
  /** Called with each command before it runs (a test can change `health` there). */
  beforeCall: ((call: string) => void) | undefined
  private readonly listeners = new Map<string, Set<Listener>>()
  private readonly waiting: Array<() => void> = []

  constructor(readonly server: Server = new Server()) {
    server.connections.push(this)
  }

  /** Every script call (EVALSHA) this connection was asked for whose source is `source`. */
  scriptCalls(source: string): number {
    return this.calls.filter((c) => c === `EVALSHA ${sha(source)}`).length
  }

  private answer<T>(command: string, first: unknown, run: () => T): Promise<T> {
    const call = `${command} ${String(first)}`
    this.calls.push(call)
    this.beforeCall?.(call)
    if (this.health === 'down') return Promise.reject(new Error('Connection is closed.'))
    if (this.health === 'hang') return new Promise(() => undefined)
    if (this.health === 'slow') return new Promise((resolve) => this.waiting.push(() => resolve(run())))
    return Promise.resolve().then(run)
  }

  /** Back to `up`, answering the commands that waited (in order). */
  resume(): void {
    this.health = 'up'
    for (const answer of this.waiting.splice(0)) answer()
  }

  get(key: string): Promise<string | null> {
    return this.answer('GET', key, () => this.server.read(key) ?? null)
  }

  getBuffer(key: string): Promise<Buffer | null> {
    return this.answer('GET', key, () => {
      const value = this.server.read(key)
      return value === undefined ? null : Buffer.from(value)
    })
  }

  set(key: string, value: string | Buffer, _mode: 'PX', ms: number, condition?: 'NX'): Promise<unknown> {
    return this.answer('SET', key, () => {
      if (condition === 'NX' && this.server.read(key) !== undefined) return null
      this.server.write(key, String(value), ms)
      return 'OK'
    })
  }

  del(...keys: string[]): Promise<number> {
    return this.answer('DEL', keys[0], () => keys.filter((key) => this.server.keys.delete(key)).length)
  }

  evalsha(digest: string, numKeys: number, ...args: Arg[]): Promise<unknown> {
    return this.answer('EVALSHA', digest, () => {
      const source = scripts.get(digest)
      if (source === undefined) throw new Error('NOSCRIPT No matching script.')
      const text = args.map(String)
      return this.server.run(source, text.slice(0, numKeys), text.slice(numKeys))
    })
  }

  eval(source: string, numKeys: number, ...args: Arg[]): Promise<unknown> {
    return this.evalsha(sha(source), numKeys, ...args)
  }

  callBuffer(command: string): Promise<unknown> {
    return Promise.reject(new Error(`fake Redis: ${command} with Buffer replies is not modelled`))
  }

  publish(channel: string, message: string): Promise<number> {
    return this.answer('PUBLISH', channel, () => this.server.publish(channel, message))
  }

  subscribe(...channels: string[]): Promise<unknown> {
    return this.answer('SUBSCRIBE', channels[0], () => {
      for (const channel of channels) this.subscribed.add(channel)
      return channels.length
    })
  }

  /** A new connection to the same server, as ioredis's `duplicate` makes for a subscriber. */
  duplicate(): FakeRedis {
    return new FakeRedis(this.server)
  }

  /** Called by the server on PUBLISH; true when this connection is a receiver. */
  deliver(channel: string, message: string): boolean {
    if (!this.subscribed.has(channel) || this.health !== 'up') return false
    if (this.deaf) return true
    if (this.holding) this.held.push({ channel, message })
    // After the publisher's reply, as over a network: the subscriber hears it on a later turn.
    else void Promise.resolve().then(() => this.emit('message', channel, message))
    return true
  }

  /** Delivers the first `count` held messages (all by default), in order. */
  release(count = this.held.length): void {
    for (const { channel, message } of this.held.splice(0, count)) this.emit('message', channel, message)
  }

  on(event: string, listener: Listener): this {
    let set = this.listeners.get(event)
    if (!set) {
      set = new Set()
      this.listeners.set(event, set)
    }
    set.add(listener)
    return this
  }

  off(event: string, listener: Listener): this {
    this.listeners.get(event)?.delete(listener)
    return this
  }

  emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) listener(...args)
  }

  /** Closes the connection; with `reconnect`, a fresh one (neither deaf nor holding) is ready on a later turn. */
  disconnect(reconnect = false): void {
    this.disconnects.push(reconnect)
    this.subscribed.clear()
    this.emit('close')
    if (!reconnect) return
    setTimeout(() => {
      this.deaf = false
      this.holding = false
      this.emit('ready')
    }, 0)
  }
}
