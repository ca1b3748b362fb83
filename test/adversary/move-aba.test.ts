// ADVERSARY (a guarded foreign-key update re-reads the old key when another write moved it: write/moved-keys.ts). The move's old-value SELECT is held; in
// between, other writes move the key a→b→a (ABA) or a→b, or delete the row. Every list and count of every author
// involved is compared with the uncached oracle after the move returns (lists filled before, so stale entries would
// be served).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { holdNextSelect } from '../support/hold-statement.ts'
import { type Setup, setupCase } from '../support/matrix.ts'

const cases = [
  { provider: 'postgres', tiers: 'two-tier' },
  { provider: 'sqlite', tiers: 'local' },
] as const

describe.each(cases)('adversary: moves re-read ($provider / $tiers)', (c) => {
  let s: Setup
  let hold: ((sql: string) => Promise<void> | undefined) | undefined
  let seq = 0
  beforeAll(async () => {
    s = await setupCase(c as never, {}, { afterQuery: (sql) => hold?.(sql) })
  })
  afterAll(() => s?.close())

  async function world() {
    const k = ++seq
    const users = []
    for (const n of ['a', 'b', 'c'])
      users.push(await s.raw.user.create({ data: { email: `m${n}${k}-${Date.now()}@x` } }))
    const [a, b, cc] = users as unknown as [{ id: number }, { id: number }, { id: number }]
    const post = await s.raw.post.create({ data: { title: 'p', authorId: a.id } })
    await s.raw.post.create({ data: { title: 'q', authorId: a.id } })
    const views = async (client: Setup['raw']) => {
      const out: unknown[] = []
      for (const u of [a, b, cc]) {
        out.push(await client.post.findMany({ where: { authorId: u.id }, orderBy: { id: 'asc' } }))
        out.push(await client.post.findMany({ where: { authorId: u.id }, orderBy: { id: 'asc' }, take: 1 }))
        out.push(await client.post.count({ where: { authorId: u.id } }))
      }
      return out
    }
    const cached = () => views(s.prisma as unknown as Setup['raw'])
    await cached()
    await cached()
    return { a, b, c: cc, post, views, cached }
  }

  type World = Awaited<ReturnType<typeof world>>

  /**
   * Moves the post to the third author with its old-value read held while `meanwhile` runs; then compares every
   * list and count with the oracle. Returns the move's result, or the code of its error.
   */
  async function moveWhile(w: World, meanwhile: () => Promise<unknown>) {
    const held = holdNextSelect('Post')
    hold = held.hook
    const move = s.prisma.post.update({ where: { id: w.post.id }, data: { authorId: w.c.id } }).then(
      () => 'ok',
      (e) => (e as { code?: string }).code,
    )
    await held.held
    hold = undefined
    await meanwhile()
    held.release()
    return move
  }

  it('ABA: the key moves a→b→a between the old-value read and the guarded update', async () => {
    const w = await world()
    const moved = await moveWhile(w, async () => {
      await s.prisma.post.update({ where: { id: w.post.id }, data: { authorId: w.b.id } })
      await s.prisma.post.update({ where: { id: w.post.id }, data: { authorId: w.a.id } })
    })
    expect(moved).toBe('ok')
    expect(await w.cached()).toEqual(await w.views(s.raw))
  })

  it('moved a→b meanwhile: the retry reads b', async () => {
    const w = await world()
    const moved = await moveWhile(w, () =>
      s.prisma.post.update({ where: { id: w.post.id }, data: { authorId: w.b.id } }),
    )
    expect(moved).toBe('ok')
    expect(await w.cached()).toEqual(await w.views(s.raw))
  })

  it('deleted meanwhile: the update throws like the oracle, lists follow', async () => {
    const w = await world()
    expect(await moveWhile(w, () => s.prisma.post.delete({ where: { id: w.post.id } }))).toBe('P2025')
    expect(await w.cached()).toEqual(await w.views(s.raw))
  })

  it('moved by another instance meanwhile: the guarded update falls through to the retry', async () => {
    const w = await world()
    // Another instance's write (bumps for itself): here a second cached instance on two-tier, else the same client.
    const other = c.tiers === 'two-tier' ? await s.instance() : s.prisma
    const moved = await moveWhile(w, () => other.post.update({ where: { id: w.post.id }, data: { authorId: w.b.id } }))
    expect(moved).toBe('ok')
    // The other instance's bump reaches this one on the bus.
    for (let i = 0; i < 100; i++) {
      if (JSON.stringify(await w.cached()) === JSON.stringify(await w.views(s.raw))) break
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(await w.cached()).toEqual(await w.views(s.raw))
  })
})
