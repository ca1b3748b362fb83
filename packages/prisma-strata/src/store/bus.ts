/**
 * The invalidation bus: Redis pub/sub on `<prefix>:bus`. Bumps are published by the bump script itself, so a
 * message exists exactly when a version changed. Messages carry names and new versions only: applying one twice
 * or out of order is harmless, and a value that is not a version only makes the process ask Redis. When the
 * subscription drops, the process forgets its versions and its local entries, and trusts them again only once it
 * is subscribed (DESIGN invariant 6).
 */
import { BusError } from '../errors'
import type { Reporter } from '../metrics/report'
import type { RedisClient } from './redis-tier'
import { isVersion } from './versions'

export interface BusHandlers {
  message(names: string[], versions: number[]): void
  down(): void
  up(): void
}

/** A bus message that carries no versions: this instance checking its own channel end to end. */
const HEARTBEAT = '~'

export class Bus {
  private subscriber: RedisClient | undefined
  private closed = false
  private lastHeard = Date.now()
  private heartbeat: NodeJS.Timeout | undefined

  constructor(
    private readonly client: RedisClient,
    private readonly channel: string,
    private readonly origin: string,
    private readonly handlers: BusHandlers,
    private readonly report: Reporter,
    /** Milliseconds between heartbeats; after 3 unheard, the subscription is taken for dead. */
    private readonly heartbeatMs: number,
  ) {}

  start(): void {
    const sub = this.client.duplicate() as RedisClient
    this.subscriber = sub
    let up = false
    const down = () => {
      up = false
      this.handlers.down()
    }
    const subscribe = () => {
      sub.subscribe(this.channel).then(
        () => {
          if (!up && !this.closed) {
            up = true
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
    this.heartbeat = setInterval(() => {
      if (!up || this.closed) return
      if (Date.now() - this.lastHeard > 3 * this.heartbeatMs) {
        this.report(new BusError(`no message on the invalidation channel for ${3 * this.heartbeatMs} ms; reconnecting`))
        down()
        sub.disconnect(true)
        return
      }
      // Any message proves the path; a quiet channel gets a beat, so about one per interval across all instances.
      if (Date.now() - this.lastHeard >= this.heartbeatMs) {
        this.client.publish(this.channel, `${this.origin} ${HEARTBEAT}`).catch(() => undefined)
      }
    }, this.heartbeatMs)
    this.heartbeat.unref()
  }

  private receive(text: string): void {
    const parts = text.split(' ')
    if (parts[0] === this.origin || parts[1] === HEARTBEAT) return // our own bump (applied already), or a heartbeat
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
