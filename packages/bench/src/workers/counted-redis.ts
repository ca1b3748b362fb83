// An ioredis connection that counts the commands it sends, by name: Redis GETs per read, seen from the client.
// Only this connection is counted: Strata's bus subscriber is a `duplicate()` of it and sends nothing but SUBSCRIBE.
import { Redis } from 'ioredis'

export interface CountedRedis {
  redis: Redis
  /** Commands sent since the last reset, by lower-case name (`get`, `evalsha`, `set`, ...). */
  counts(): Record<string, number>
  reset(): void
}

export function countedRedis(url: string): CountedRedis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 })
  let counts: Record<string, number> = {}
  const send = redis.sendCommand.bind(redis)
  redis.sendCommand = (command, stream) => {
    counts[command.name] = (counts[command.name] ?? 0) + 1
    return send(command, stream)
  }
  return {
    redis,
    counts: () => ({ ...counts }),
    reset: () => {
      counts = {}
    },
  }
}
