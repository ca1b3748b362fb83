// A second cached client with a global `omit` on the prefix of a differential case, and its oracle: an uncached
// client with the same `omit`. Two-tier, both cached clients share Redis, so an entry one of them filled can reach
// the other; Strata must keep their answers apart (with and without the omitted fields).
import { type CacheOptions, cache } from 'prisma-strata'
import { type CachedClient, type Case, newClient, type RawClient, type Setup, waitForBus } from '../matrix.ts'
import { redisUrl } from '../services.ts'

/** Fields most reads return (whole rows, nested authors): their absence shows in the answer. */
export const globalOmit = { user: { email: true }, post: { views: true } } as const

export interface OmitClients {
  /** The cached client with the global `omit`. */
  prisma: CachedClient
  /** Uncached, with the same global `omit`. */
  raw: RawClient
  /** Whether it shares Redis (and so the bus) with the main client. */
  shared: boolean
  close(): Promise<void>
}

const client = (c: Case, setup: Setup): RawClient => newClient(c.provider, setup.db.adapter(), { omit: globalOmit })

/** Starts both clients (`options`: the main client's); `close()` disconnects them. */
export async function omitClients(c: Case, setup: Setup, options: CacheOptions): Promise<OmitClients> {
  const url = c.tiers === 'two-tier' ? await redisUrl() : undefined
  const prisma = client(c, setup).$extends(
    cache({ ...(url ? { redis: url } : {}), prefix: setup.prefix, ...options }),
  ) as unknown as CachedClient
  if (url) await waitForBus(prisma)
  const raw = client(c, setup)
  return {
    prisma,
    raw,
    shared: url !== undefined,
    async close() {
      await prisma.$cache.close()
      await prisma.$disconnect()
      await raw.$disconnect()
    },
  }
}
