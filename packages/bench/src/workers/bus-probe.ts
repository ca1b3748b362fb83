// Listens on Strata's invalidation channel (`<prefix>:bus`) on a connection of its own and notes when each message
// reaches this process: compared with when the write returned in the writer, the bus's share of the lag.
import { Redis } from 'ioredis'

export interface BusProbe {
  /** Epoch ms at which each message arrived, in order. */
  arrivals(): number[]
  reset(): void
  close(): void
}

export async function busProbe(redisUrl: string, prefix: string): Promise<BusProbe> {
  const sub = new Redis(redisUrl, { maxRetriesPerRequest: 2 })
  let arrivals: number[] = []
  // Strata's heartbeats (`<origin> ~`) share the channel: only version bumps are writes.
  sub.on('message', (_channel: string, text: string) => {
    if (text.split(' ')[1] !== '~') arrivals.push(performance.timeOrigin + performance.now())
  })
  await sub.subscribe(`${prefix}:bus`)
  return {
    arrivals: () => [...arrivals],
    reset: () => {
      arrivals = []
    },
    close: () => sub.disconnect(),
  }
}
