// For tests that put bytes of their own under Strata's keys: a matrix case opened once per file, with empty tables,
// no entries and the errors Strata reported collected per test; and a wait for fills, which land in the background.
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { type Case, type Setup, setupCase } from './matrix.ts'

/** Keys matching `pattern` under the case's prefix, once there are at least `count` of them (sorted). */
export async function storedKeys(s: Setup, pattern: string, count = 1): Promise<string[]> {
  const redis = s.redis as NonNullable<Setup['redis']>
  for (let i = 0; i < 500; i++) {
    const keys = await redis.keys(`${s.prefix}:${pattern}`)
    if (keys.length >= count) return keys.sort()
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`nothing was stored under ${pattern}`)
}

/**
 * Opens `c` for the enclosing `describe`: before each test the tables are emptied, the models' versions bumped,
 * every query entry deleted and the stats reset. `errors`: the codes Strata reported during the current test.
 */
export function openForged(c: Case): { readonly s: Setup; errors: string[] } {
  const scene = { s: undefined as unknown as Setup, errors: [] as string[] }
  beforeAll(async () => {
    scene.s = await setupCase(c, { onError: (e) => scene.errors.push(e.code) })
  })
  afterAll(() => scene.s?.close())
  beforeEach(async () => {
    const { s } = scene
    scene.errors.length = 0
    await s.raw.post.deleteMany()
    await s.raw.user.deleteMany()
    await s.prisma.$cache.invalidate({ models: ['User', 'Post'] })
    const old = (await s.redis?.keys(`${s.prefix}:e:*`)) ?? []
    if (old.length > 0) await s.redis?.del(...old)
    s.prisma.$cache.resetStats()
  })
  return scene
}
