/**
 * The invalidation bus: Redis pub/sub on `<prefix>:bus`. Bumps are published by the bump script itself, so a
 * message exists exactly when a version changed. Messages carry names and new versions only: applying one twice
 * or out of order is harmless. When the subscription drops, the process forgets its versions and its local
 * entries, and trusts them again only once it is subscribed (DESIGN invariant 6).
 */
import { BusError } from '../errors'
import type { Reporter } from '../metrics/report'
import type { RedisClient } from './redis-tier'

export interface BusHandlers {
  message(names: string[], versions: number[]): void
  down(): void
  up(): void
}

export class Bus {
  private subscriber: RedisClient | undefined
  private closed = false

  constructor(
    private readonly client: RedisClient,
    private readonly channel: string,
    private readonly origin: string,
    private readonly handlers: BusHandlers,
    private readonly report: Reporter,
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
      if (channel === this.channel) this.receive(text)
    })
    sub.on('ready', subscribe)
    sub.on('close', down)
    sub.on('error', (error: unknown) => this.report(new BusError('invalidation bus connection failed', error)))
    subscribe()
  }

  private receive(text: string): void {
    const parts = text.split(' ')
    if (parts[0] === this.origin) return // our own bump, applied already
    const names: string[] = []
    const versions: number[] = []
    for (let i = 1; i + 1 < parts.length; i += 2) {
      const version = Number(parts[i + 1])
      if (!Number.isSafeInteger(version)) {
        this.report(new BusError(`malformed bus message: ${text.slice(0, 80)}`))
        return
      }
      names.push(parts[i] as string)
      versions.push(version)
    }
    this.handlers.message(names, versions)
  }

  async close(): Promise<void> {
    this.closed = true
    this.subscriber?.disconnect()
  }
}
