// One process of the stampede scenario: three instances (plain Prisma, Strata without leases, Strata with leases),
// each able to fire `reads` identical findFirst calls at once on the hot row whose entry has just expired
// (User entries live 1 s here). findFirst, not findUnique: Prisma merges identical findUnique calls by itself.
import { type Instance, openInstance } from './instance.ts'
import { type Command, epochMs, serve, sleep, workerConfig } from './protocol.ts'

export type StampedeMode = 'prisma' | 'strata' | 'lease'

export interface StampedeConfig {
  index: number
  dbUrl: string
  redisUrl: string
  prefix: string
  /** The hot row's email. */
  email: string
  modes: StampedeMode[]
}

/** What one process reports for one burst. */
export interface BurstReport {
  /** SQL statements sent (every one a read of the hot row). */
  queries: number
  /** Epoch ms when the burst started and when its last read resolved. */
  start: number
  end: number
  /** Reads that did not return the hot row. */
  wrong: number
  strata: { localHits: number; redisHits: number; misses: number; coalesced: number } | undefined
  errors: Record<string, number> | undefined
  redis: Record<string, number> | undefined
}

const config = workerConfig<StampedeConfig>()
const expiresFast = { models: { User: { ttl: 1 } } }
const strataOptions = {
  prisma: undefined,
  strata: { ...expiresFast, prefix: `${config.prefix}-n` },
  lease: { ...expiresFast, prefix: `${config.prefix}-l`, lease: true },
}

const instances = new Map<StampedeMode, Instance>()
for (const mode of config.modes) {
  instances.set(mode, await openInstance(config.dbUrl, config.redisUrl, strataOptions[mode]))
}
const instance = (command: Command) => instances.get(command.mode as StampedeMode) as Instance
const read = (i: Instance) => i.users.findFirst({ where: { email: config.email } })

/** `reads` reads at once, at epoch ms `at` (the same moment in every process). */
async function burst(i: Instance, reads: number, at: number): Promise<BurstReport> {
  i.sql.reset()
  i.redis?.reset()
  i.strata?.resetStats()
  if (at > epochMs()) await sleep(at - epochMs())
  const start = epochMs()
  const rows = await Promise.all(Array.from({ length: reads }, () => read(i)))
  const end = epochMs()
  const stats = i.strata?.stats()
  return {
    queries: i.sql.count(),
    start,
    end,
    wrong: rows.filter((row) => row?.email !== config.email).length,
    strata: stats && {
      localHits: stats.localHits,
      redisHits: stats.redisHits,
      misses: stats.misses,
      coalesced: stats.coalesced,
    },
    errors: stats?.errors,
    redis: i.redis?.counts(),
  }
}

await serve(
  {
    /** One read: the entry is cached here (and in Redis) again, to expire 1 s later. */
    prime: async (c) => {
      await read(instance(c))
    },
    burst: (c) => burst(instance(c), c.reads as number, (c.at as number | undefined) ?? 0),
  },
  async () => {
    for (const i of instances.values()) await i.close()
  },
)
