// Counting and deleting a scenario's keys by pattern, with SCAN so the server is never blocked.
import type { Redis } from 'ioredis'

/** Keys under `match` on one connection. */
export async function countKeys(redis: Redis, match: string): Promise<number> {
  let n = 0
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    n += keys.length
    cursor = next
  } while (cursor !== '0')
  return n
}

/** Unlinks every key under `match` on one connection. */
export async function unlinkKeys(redis: Redis, match: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    if (keys.length) await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
}
