import { describe, expect, it } from 'vitest'
import { fluentArgs, followPath } from '../src/read/lazy-read'

// A fluent call (`findUnique(...).author().posts()`) is sent as Prisma sends it: the root query's own arguments,
// each step set at `select.<field>` along the path, and the answer taken along that path.
describe('fluent arguments', () => {
  it('keeps the root arguments and sets each step at select.<field>', () => {
    expect(fluentArgs({ where: { id: 1 } }, [['posts', undefined]])).toEqual({
      where: { id: 1 },
      select: { posts: true },
    })
    // Prisma rejects an include or omit beside the path's select; so must the cache, so it is kept.
    expect(fluentArgs({ where: { id: 1 }, include: { posts: true } }, [['author', undefined]])).toEqual({
      where: { id: 1 },
      include: { posts: true },
      select: { author: true },
    })
    // A root select gains the step beside what it names.
    expect(fluentArgs({ where: { id: 1 }, select: { id: true } }, [['posts', { take: 1 }]])).toEqual({
      where: { id: 1 },
      select: { id: true, posts: { take: 1 } },
    })
  })

  it('nests later steps inside the earlier step, beside its own arguments', () => {
    expect(
      fluentArgs({ where: { id: 1 } }, [
        ['author', { select: { email: true } }],
        ['posts', { where: { published: true } }],
      ]),
    ).toEqual({
      where: { id: 1 },
      select: { author: { select: { email: true, posts: { where: { published: true } } } } },
    })
    expect(
      fluentArgs(undefined, [
        ['author', undefined],
        ['profile', undefined],
      ]),
    ).toEqual({
      select: { author: { select: { profile: true } } },
    })
  })

  it('takes any falsy step argument as no argument, as Prisma does', () => {
    for (const none of [undefined, null, false]) {
      expect(fluentArgs({ where: { id: 1 } }, [['profile', none]])).toEqual({
        where: { id: 1 },
        select: { profile: true },
      })
    }
  })

  it('never changes the caller’s arguments', () => {
    const root = { where: { id: 1 }, select: { id: true } }
    const step = { select: { email: true } }
    fluentArgs(root, [
      ['author', step],
      ['posts', undefined],
    ])
    expect(root).toEqual({ where: { id: 1 }, select: { id: true } })
    expect(step).toEqual({ select: { email: true } })
  })

  it('follows the path of the answer, null where the chain breaks', () => {
    const steps = [
      ['author', undefined],
      ['profile', undefined],
    ] as const
    expect(followPath({ author: { profile: { bio: 'b' } } }, steps)).toEqual({ bio: 'b' })
    expect(followPath({ author: null }, steps)).toBeNull()
    expect(followPath(null, steps)).toBeNull()
  })
})
