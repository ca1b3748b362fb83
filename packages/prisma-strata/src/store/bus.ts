/**
 * The invalidation bus: Redis pub/sub on `<prefix>:bus`. Bumps are published by the bump script itself, so a
 * message exists exactly when a version changed. Messages carry names and new versions only: applying one twice
 * or out of order is harmless, and a value that is not a version only makes the process ask Redis. When the
 * subscription drops, the process forgets its versions and its local entries, and trusts them again only once it
 * is subscribed (design invariant 6, docs/design.md). A process that has heard nothing on the channel for half the staleness bound
 * stops trusting its versions until it hears its own beat again.
 */
import { BusError } from '../errors'
import type { ReportError } from '../observe/reporter'
import { isCluster, type RedisClient } from './redis-client'
import { isVersion } from './versions'

export interface BusHandlers {
  message(names: string[], versions: number[]): void
  /** Another instance could not bump these names (Redis refused the bump). */
  dirty(names: string[]): void
  /** The subscription is gone: forget everything. */
  down(): void
  /** Nothing heard within the staleness bound: stop trusting versions (entries stay, checked against Redis). */
  quiet(): void
  /** Subscribed, or heard again: versions may be trusted. */
  up(): void
}

/** A bus message that carries no versions: an instance checking the channel end to end ("origin ~ n"). */
const HEARTBEAT = '~'
/** "origin ! name ...": a bump of these names was refused; their version in Redis predates a write. */
const DIRTY = '!'

export class Bus {
  private subscriber: RedisClient | undefined
  private closed = false
  private lastHeard = Date.now()
  private heartbeat: NodeJS.Timeout | undefined
  private up = false
  /** Heard something within half the staleness bound; versions are trusted only while `up` and `hearing`. */
  private hearing = false
  private beats = 0
  /** After a silence, the first own beat that restores trust: everything published before it has been heard. */
  private awaited = 0

  constructor(
    private readonly client: RedisClient,
    private readonly channel: string,
    private readonly origin: string,
    private readonly handlers: BusHandlers,
    private readonly report: ReportError,
    /** Milliseconds between heartbeats; after 3 unheard, the subscription is taken for dead. */
    private readonly heartbeatMs: number,
    /** Longest an instance may serve what a write elsewhere made stale, in ms. */
    private readonly stalenessMs: number,
  ) {}

  start(): void {
    const sub = subscriberOf(this.client)
    this.subscriber = sub
    const down = () => {
      this.up = false
      this.hearing = false
      this.handlers.down()
    }
    const subscribe = () => {
      sub.subscribe(this.channel).then(
        () => {
          if (!this.up && !this.closed) {
            this.up = true
            this.hearing = true
            this.lastHeard = Date.now()
            this.handlers.up()
          }
        },
        (error: unknown) => this.report(new BusError('could not subscribe to the invalidation channel', error)),
      )
    }
    sub.on('message', (channel: string, text: string) => {
      if (channel !== this.channel) return
      this.lastHeard = Date.now()
      this.receive(text)
    })
    sub.on('ready', () => {
      this.lastHeard = Date.now()
      subscribe()
    })
    sub.on('close', down)
    sub.on('error', (error: unknown) => this.report(new BusError('invalidation bus connection failed', error)))
    subscribe()
    // A connection that died without closing (half-open TCP, a subscriber left on a demoted node) delivers nothing
    // and says nothing: publish a heartbeat and expect to hear it, or distrust and reconnect.
    const beatMs = Math.min(this.heartbeatMs, this.stalenessMs / 4)
    this.heartbeat = setInterval(() => this.tick(sub, beatMs, down), Math.min(this.heartbeatMs, this.stalenessMs / 10))
    this.heartbeat.unref()
  }

  private tick(sub: RedisClient, beatMs: number, down: () => void): void {
    if (!this.up || this.closed) return
    // After the process itself stalled (a long task, a GC pause, descheduled), timers run before the socket is
    // read: messages that arrived meanwhile would look unheard. Judge the silence once pending I/O is read.
    if (Date.now() - this.lastHeard >= this.stalenessMs / 2) setImmediate(() => this.judge(sub, beatMs, down))
    else this.judge(sub, beatMs, down)
  }

  private judge(sub: RedisClient, beatMs: number, down: () => void): void {
    if (!this.up || this.closed) return
    const quiet = Date.now() - this.lastHeard
    if (quiet > 3 * this.heartbeatMs) {
      this.report(new BusError(`no message on the invalidation channel for ${3 * this.heartbeatMs} ms; reconnecting`))
      down()
      sub.disconnect(true)
      return
    }
    // Silence for half the bound (the other half absorbs a late timer): a write elsewhere may be unheard, so the
    // versions known here stop answering until an own beat, published after everything unheard, comes back.
    if (this.hearing && quiet >= this.stalenessMs / 2) {
      this.hearing = false
      this.awaited = this.beats + 1
      this.handlers.quiet()
    }
    // Any message proves the path; a quiet channel gets a beat, so about one per interval across all instances.
    if (!this.hearing || quiet >= beatMs) {
      this.client.publish(this.channel, `${this.origin} ${HEARTBEAT} ${++this.beats}`).catch(() => undefined)
    }
  }

  private receive(text: string): void {
    const parts = text.split(' ')
    if (parts[1] === HEARTBEAT) {
      if (parts[0] === this.origin && !this.hearing && this.up && Number(parts[2]) >= this.awaited) {
        this.hearing = true
        this.handlers.up()
      }
      return
    }
    if (parts[0] === this.origin) return // our own bump, applied already
    if (parts[1] === DIRTY) {
      this.handlers.dirty(parts.slice(2))
      return
    }
    const names: string[] = []
    const versions: number[] = []
    for (let i = 1; i < parts.length; i += 2) {
      names.push(parts[i] as string)
      versions.push(Number(parts[i + 1]))
    }
    // A name whose value is not a version still changed: it is passed on (and forgotten), never dropped.
    if (!versions.every(isVersion)) this.report(new BusError(`malformed bus message: ${text.slice(0, 80)}`))
    this.handlers.message(names, versions)
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.heartbeat)
    this.subscriber?.disconnect()
  }
}

/**
 * The bus's own connection. On a standalone server ioredis re-sends the subscriptions itself after a reconnect, and
 * nothing observes that command: when the connection closes before its reply (Redis hung, then `close()`), its
 * rejection is unhandled, which ends a Node process by default. This bus subscribes again on `ready` itself, with
 * the failure handled, so ioredis's own resubscription is turned off. A Cluster's subscriber handles its own.
 */
function subscriberOf(client: RedisClient): RedisClient {
  if (isCluster(client)) return client.duplicate()
  // A `Redis`'s `duplicate` takes options (a `Cluster`'s takes startup nodes first).
  type Standalone = { duplicate(options: { autoResubscribe: boolean }): RedisClient }
  return (client as unknown as Standalone).duplicate({ autoResubscribe: false })
}
