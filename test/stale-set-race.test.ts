// The stale-set race (design invariant 2, docs/design.md), made deterministic: a reader misses and reads the old row; before it
// can fill the cache, a writer commits and bumps; then the reader fills. The old row must never be served after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { holdNextSelect } from './support/hold-statement.ts'
import { matrix, type Setup, setupCase } from './support/matrix.ts'

describe.each(matrix)('stale-set race: $provider / $tiers', (c) => {
  let s: Setup
  let hold: ((sql: string) => Promise<void> | undefined) | undefined

  beforeAll(async () => {
    s = await setupCase(c, {}, { afterQuery: (sql) => hold?.(sql) })
  })
  afterAll(() => s?.close())

  it('a fill made before a write committed is never served after it', async () => {
    const post = await s.raw.post.create({ data: { title: 'race', views: 1 } })
    const read = () => s.prisma.post.findFirst({ where: { title: 'race' } })

    const held = holdNextSelect('Post')
    hold = held.hook

    const reader = read() // misses, snapshots versions, reads views = 1, then waits before filling
    const pending = reader.then((r) => r)
    await held.held
    await s.prisma.post.update({ where: { id: post.id }, data: { views: 2 } }) // commits and bumps
    held.release()
    expect((await pending)?.views).toBe(1) // the reader started before the write: the old row is its answer

    // From now on no reader, here or in another instance, may get the row the reader filled.
    for (let i = 0; i < 3; i++) expect((await read())?.views).toBe(2)
    if (c.tiers === 'two-tier') {
      const other = await s.instance()
      for (let i = 0; i < 3; i++) expect((await other.post.findFirst({ where: { title: 'race' } }))?.views).toBe(2)
    }
  })
})
