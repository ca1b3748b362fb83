// Type-level test, checked by `pnpm typecheck`: a client of either ioredis major version is accepted as `redis`,
// `Redis` and `Cluster` alike, without casts (an application's `new Redis()` comes from its own copy of ioredis).
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis'
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6'
import { cache } from 'prisma-strata'

export const withRedis5 = cache({ redis: new Redis5({ lazyConnect: true }) })
export const withRedis6 = cache({ redis: new Redis6({ lazyConnect: true }) })
export const withCluster5 = cache({ redis: new Cluster5([], { lazyConnect: true }) })
export const withCluster6 = cache({ redis: new Cluster6([], { lazyConnect: true }) })
// @ts-expect-error not a Redis client
export const withOther = cache({ redis: 42 })
