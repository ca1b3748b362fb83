// ADVERSARY (deterministic: the reader is held between its SQL and its fill): the stale-set race across two
// instances, with a plain model, a write-through model and a raw SQL writer in an interactive transaction.
import { cache } from 'prisma-strata'
import { describe, expect, it, vi } from 'vitest'
import { countingAdapter } from '../support/counting-adapter.ts'
import { type Cached, client, type Raw, show, stage } from './database.ts'

const provider = 'postgres' as const
const { cur, db, fresh } = stage(provider)

/** A cached client whose next SELECT on `table` is held after its result arrived, until `release()`. */
function heldReader(table: string, options = {}) {
  let hold = false
  let held: (() => void) | undefined
  let arrived: () => void = () => {}
  const reached = new Promise<void>((r) => {
    arrived = r
  })
  const counting = countingAdapter(db().adapter() as never, {
    afterQuery: async (sql) => {
      if (process.env.ADV_DEBUG) console.log(`SQL ${hold} ${sql.slice(0, 80)}`)
      if (hold && sql.startsWith('SELECT') && sql.includes(`"${table}"`)) {
        hold = false
        arrived()
        await new Promise<void>((r) => {
          held = r
        })
      }
    },
  })
  const p = client(provider, counting.adapter).$extends(cache({ redis: cur().redis, prefix: cur().prefix, ...options }))
  const arm = () => {
    hold = true
  }
  return { p, arm, reached, release: () => held?.() }
}

const cases: Array<[string, object, (p: Raw) => Promise<unknown>, (writer: Cached) => Promise<unknown>, string]> = [
  [
    'findMany with include, writer updates the included model',
    {},
    (p) => p.member.findMany({ orderBy: { id: 'asc' }, include: { badge: true } }),
    (wr) => wr.badge.update({ where: { memberId: 1 }, data: { label: 'raced' } }),
    'members',
  ],
  [
    'write-through point read, writer updates the row',
    { models: { Member: { strategy: 'write-through' } } },
    (p) => p.member.findUnique({ where: { id: 1 } }),
    (wr) => wr.member.update({ where: { id: 1 }, data: { handle: 'raced' } }),
    'members',
  ],
  [
    'count, writer runs raw SQL in an interactive transaction',
    {},
    (p) => p.task.count({ where: { done: false } }),
    (wr) => wr.$transaction(async (tx) => tx.$executeRawUnsafe('UPDATE tasks SET done = true')),
    'tasks',
  ],
  [
    'fluent read, writer cascades a delete from the parent',
    {},
    (p) => p.member.findUnique({ where: { id: 1 } }).badge(),
    (wr) => wr.member.delete({ where: { id: 1 } }),
    'members',
  ],
]

describe('adversary stale-set race across instances: postgres / two-tier', () => {
  for (const [name, options, read, write, table] of cases) {
    it(name, async () => {
      const { raw } = await fresh(options)
      const writer = await cur().instance(options)
      const reader = heldReader(table, options)
      try {
        await reader.p.$cache.whenReady(5000)
        reader.arm()
        // Lazy like Prisma: a read starts when awaited (then-ed).
        const first = Promise.resolve(read(reader.p as unknown as Raw))
        await reader.reached
        await write(writer)
        await new Promise((r) => setTimeout(r, 100)) // the bump reaches the reader
        reader.release()
        await first
        const want = show(await read(raw))
        // Once the bump has reached it (the bus, within the staleness bound), the reader answers from the write.
        await vi.waitFor(async () => expect(show(await read(reader.p as unknown as Raw))).toEqual(want), {
          timeout: 5000,
        })
        const third = await cur().instance(options)
        expect(show(await read(third as unknown as Raw))).toEqual(want)
        expect(show(await read(writer as unknown as Raw))).toEqual(want)
      } finally {
        reader.release()
        await reader.p.$cache.close()
        await reader.p.$disconnect()
      }
    })
  }
})
