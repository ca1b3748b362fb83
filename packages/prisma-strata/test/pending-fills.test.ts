import { describe, expect, it } from 'vitest'
import type { StrataError } from '../src/errors'
import { PendingFills } from '../src/read/pending-fills'

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

function fills() {
  const reported: StrataError[] = []
  let flushes = 0
  const pending = new PendingFills(
    (error) => reported.push(error),
    () => flushes++,
  )
  return { pending, reported, flushes: () => flushes }
}

describe('PendingFills', () => {
  it('stores after the answers of the turn, once for all of them, and resolves with what they sent', async () => {
    const { pending, flushes } = fills()
    const order: string[] = []
    const sent = Promise.resolve('landed')
    const a = pending.defer('a', () => {
      order.push('a')
      return sent
    })
    const b = pending.defer('b', () => {
      order.push('b')
      return undefined
    })
    // The answer's microtasks run first: nothing is stored while they do.
    await Promise.resolve()
    await Promise.resolve()
    expect(order).toEqual([])
    expect(pending.size).toBe(2)
    await nextTurn()
    expect(order).toEqual(['a', 'b'])
    expect(flushes()).toBe(1)
    expect(pending.size).toBe(0)
    expect(await a).toBe('landed')
    expect(await b).toBeUndefined()
  })

  it('a read of the same text stores its fill first; a second fill of a text stores the first one', async () => {
    const { pending } = fills()
    const order: string[] = []
    void pending.defer('q', () => {
      order.push('first')
      return undefined
    })
    pending.storeNow('other')
    expect(order).toEqual([])
    pending.storeNow('q')
    expect(order).toEqual(['first'])
    pending.storeNow('q') // stored once only
    void pending.defer('q', () => {
      order.push('second')
      return undefined
    })
    void pending.defer('q', () => {
      order.push('third')
      return undefined
    })
    expect(order).toEqual(['first', 'second'])
    pending.flush()
    expect(order).toEqual(['first', 'second', 'third'])
    await nextTurn()
    expect(order).toEqual(['first', 'second', 'third'])
  })

  it('a turn that never ends (reads that never wait on I/O) holds a bounded number of fills', () => {
    const { pending, flushes } = fills()
    let stored = 0
    for (let i = 0; i < 1000; i++) {
      void pending.defer(`q${i}`, () => {
        stored++
        return undefined
      })
      expect(pending.size).toBeLessThanOrEqual(256)
    }
    expect(stored + pending.size).toBe(1000)
    expect(stored).toBeGreaterThan(0)
    expect(flushes()).toBe(Math.floor(1000 / 256))
  })

  it('a fill that throws is reported, never thrown, and the others are stored', async () => {
    const { pending, reported } = fills()
    const stored: string[] = []
    const failed = pending.defer('bad', () => {
      throw new Error('boom')
    })
    const fine = pending.defer('good', () => {
      stored.push('good')
      return undefined
    })
    expect(() => pending.storeNow('bad')).not.toThrow()
    expect(await failed).toBeUndefined()
    expect(reported.map((e) => e.code)).toEqual(['E_CODEC'])
    expect((reported[0]?.cause as Error).message).toBe('boom')
    await fine
    expect(stored).toEqual(['good'])
  })
})
