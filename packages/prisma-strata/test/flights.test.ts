import { describe, expect, it } from 'vitest'
import { Flights } from '../src/read/flights'
import type { Outcome } from '../src/read/read-call'

const outcome = (value: unknown): Outcome => ({ value, master: value, cached: false })

describe('Flights', () => {
  it('under way: shared under the same snapshot, by any read without one, and by reads begun before it', () => {
    const flights = new Flights(200)
    const began = performance.now()
    let settle!: (o: Outcome) => void
    const work = new Promise<Outcome>((resolve) => {
      settle = resolve
    })
    flights.start('q', [1], work)
    const later = performance.now() + 1
    expect(flights.join('q', ['m:Post'], [1], later)).toBe(work)
    expect(flights.join('q', ['m:Post'], undefined, later)).toBe(work)
    expect(flights.join('q', ['m:Post'], [2], later)).toBeUndefined() // newer versions, flight older than the read
    expect(flights.join('q', ['m:Post'], [2], began)).toBe(work) // its query is sent after this read began
    expect(flights.join('other', ['m:Post'], undefined, later)).toBeUndefined()
    settle(outcome(1))
  })

  it('never shares a flight started before this process wrote to a dependency', () => {
    const flights = new Flights(200)
    const began = performance.now()
    const work = new Promise<Outcome>(() => {})
    flights.start('q', undefined, work)
    flights.wrote(['m:User'])
    expect(flights.join('q', ['m:Post'], undefined, began)).toBe(work) // another model's write
    flights.wrote(['m:Post'])
    expect(flights.join('q', ['m:Post'], undefined, began)).toBeUndefined()
    expect(flights.join('q', ['m:Post'], undefined, began - 1)).toBeUndefined()
    const next = Promise.resolve(outcome(2))
    flights.start('q', undefined, next) // started after the write: shared again
    expect(flights.join('q', ['m:Post'], undefined, performance.now())).toBe(next)
  })

  it('answered: only reads begun before it started still take its answer; a failed one is dropped', async () => {
    const flights = new Flights(200)
    const early = performance.now()
    const done = Promise.resolve(outcome(1))
    flights.start('q', undefined, done)
    await done
    await Promise.resolve()
    expect(flights.join('q', [], undefined, early)).toBe(done)
    expect(flights.join('q', [], undefined, performance.now() + 1)).toBeUndefined()
    const failed = Promise.reject(new Error('db'))
    failed.catch(() => undefined)
    flights.start('f', undefined, failed)
    await failed.catch(() => undefined)
    await Promise.resolve()
    expect(flights.join('f', [], undefined, early)).toBeUndefined()
  })
  it('lets go of answers past keepMs without any timer running (a database answering without I/O never yields)', async () => {
    const flights = new Flights(0)
    for (let i = 0; i < 5000; i++) await flights.start(`q${i}`, undefined, Promise.resolve(outcome({ row: i })))
    // Only microtasks have run: no timer could have dropped a flight. The sweep did, every 1,000 flights started.
    const kept = (flights as unknown as { byKey: Map<string, unknown> }).byKey.size
    expect(kept).toBeLessThanOrEqual(1000)
  })
})
