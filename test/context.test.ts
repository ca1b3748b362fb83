// `context` partitions the cache: a string and a number are two partitions ('1' is not 1), and a value that is
// neither (an object, the Promise of an `async` function, a boolean, NaN) or a context that throws never shares
// an entry: the read goes to the database uncached and E_CONTEXT_INVALID is reported. Counted SQL shows which.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { matrix, type Setup, setupCase } from './support/matrix.ts'

describe.each(matrix.filter((c) => c.provider === 'sqlite'))('context partitions: $provider / $tiers', (c) => {
  let s: Setup
  let current: unknown
  let throws = false
  const errors: string[] = []
  let id: number

  beforeAll(async () => {
    s = await setupCase(c, {
      context: () => {
        if (throws) throw new Error('no tenant store')
        return current as string
      },
      onError: (e) => errors.push(e.code),
    })
    id = (await s.raw.user.create({ data: { email: 'tenant@x', name: 'shared row' } })).id
  })
  afterAll(() => s?.close())
  beforeEach(async () => {
    errors.length = 0
    throws = false
    await s.prisma.$cache.invalidate({ models: ['User'] })
    s.counting.reset()
  })

  const read = () => s.prisma.user.findUnique({ where: { id } })
  let loads = 0
  const wrapped = () => s.prisma.$cache.wrap('tenant-value', () => ++loads)

  it("a string and a number with the same text are two partitions: '1' is not 1", async () => {
    const expected = await s.raw.user.findUnique({ where: { id } })
    for (const tenant of ['1', 1, '1', 1]) {
      current = tenant
      expect(await read()).toEqual(expected)
    }
    expect(s.counting.count()).toBe(2) // one miss per partition, then a hit in each
    expect(s.prisma.$cache.stats().localHits).toBeGreaterThanOrEqual(2)
    loads = 0
    for (const tenant of [1, '1', 1, '1']) {
      current = tenant
      await wrapped()
    }
    expect(loads).toBe(2) // one load per partition
    expect(errors).toEqual([])
  })

  it('an object, a Promise, a boolean, NaN or a throw is E_CONTEXT_INVALID: every read goes to the database', async () => {
    const expected = await s.raw.user.findUnique({ where: { id } })
    const invalid: Array<() => void> = [
      () => {
        current = { tenant: 1 }
      },
      () => {
        current = (async () => 'tenant')() // an async context function
      },
      () => {
        current = true
      },
      () => {
        current = Number.NaN
      },
      () => {
        throws = true
      },
    ]
    for (const set of invalid) {
      set()
      errors.length = 0
      s.counting.reset()
      const bypasses = s.prisma.$cache.stats().bypasses
      expect(await read()).toEqual(expected)
      expect(await read()).toEqual(expected)
      expect(s.counting.count()).toBe(2) // never cached, so never shared with another tenant
      expect(s.prisma.$cache.stats().bypasses - bypasses).toBe(2)
      expect(errors).toEqual(['E_CONTEXT_INVALID', 'E_CONTEXT_INVALID'])
      errors.length = 0
      loads = 0
      await wrapped()
      await wrapped()
      expect(loads).toBe(2) // the loader answers, uncached
      expect(errors).toEqual(['E_CONTEXT_INVALID', 'E_CONTEXT_INVALID'])
      throws = false
    }
  })
})
