import { describe, expect, it } from 'vitest'
import type { Outcome } from '../src/read/entry-kind'
import { type Began, Flights } from '../src/read/flights'

const outcome = (value: unknown): Outcome => ({ master: value })
/** A read begun `ms` from now, with the writes stamped so far. */
const at = (flights: Flights<Outcome>, ms: number): Began => ({ ...flights.begin(), at: performance.now() + ms })

describe('Flights', () => {
  it('under way: shared under the same snapshot, by any read without one, and by reads begun before it', () => {
    const flights = new Flights<Outcome>(200)
    const began = flights.begin()
    let settle!: (o: Outcome) => void
    const work = new Promise<Outcome>((resolve) => {
      settle = resolve
    })
    flights.start('q', [1], work, at(flights, 0))
    const later = at(flights, 1)
    expect(flights.join('q', ['m:Post'], [1], later)).toBe(work)
    expect(flights.join('q', ['m:Post'], undefined, later)).toBe(work)
    expect(flights.join('q', ['m:Post'], [2], later)).toBeUndefined() // newer versions, flight older than the read
    expect(flights.join('q', ['m:Post'], [2], began)).toBe(work) // its snapshot and query came after this read began
    expect(flights.join('other', ['m:Post'], undefined, later)).toBeUndefined()
    settle(outcome(1))
  })

  it('shares an answer whose fill is still landing only while `fresh` says it is within its TTL', async () => {
    let fresh = true
    const landing = new Promise<void>(() => {}) // the fill never lands here
    const flights = new Flights<Outcome>(
      200,
      () => landing,
      () => fresh,
    )
    const work = Promise.resolve(outcome(1))
    flights.start('q', [1], work, flights.begin())
    await work // answered: the flight stays open while its fill lands
    expect(flights.join('q', ['m:Post'], [1], at(flights, 1))).toBe(work)
    fresh = false // the answer's TTL passed (a caller kept the event loop busy, say)
    expect(flights.join('q', ['m:Post'], [1], at(flights, 1))).toBeUndefined()
  })

  it('never shares a flight whose read began before this process wrote to a dependency', () => {
    const flights = new Flights<Outcome>(200)
    const began = flights.begin()
    const work = new Promise<Outcome>(() => {})
    flights.start('q', undefined, work, began)
    flights.wrote(['m:User'])
    expect(flights.join('q', ['m:Post'], undefined, flights.begin())).toBe(work) // another model's write
    flights.wrote(['m:Post'])
    expect(flights.join('q', ['m:Post'], undefined, flights.begin())).toBeUndefined()
    expect(flights.join('q', ['m:Post'], undefined, at(flights, -1))).toBeUndefined()
    const next = Promise.resolve(outcome(2))
    flights.start('q', undefined, next, flights.begin()) // begun after the write: shared again
    expect(flights.join('q', ['m:Post'], undefined, flights.begin())).toBe(next)
  })

  it('shares a flight begun before a write with a read under the same versions (they hold the write), not without', () => {
    const flights = new Flights<Outcome>(200)
    const work = new Promise<Outcome>(() => {})
    flights.start('q', [1, 7], work, flights.begin())
    // A row request of another author's post stamps the model's predicate epoch, which every predicate read names.
    flights.wrote(['e:Post'])
    const after = flights.begin()
    expect(flights.join('q', ['e:Post', 'p:Post:a'], [1, 7], after)).toBe(work)
    expect(flights.join('q', ['e:Post', 'p:Post:a'], [1, 8], after)).toBeUndefined() // the write moved a version
    expect(flights.join('q', ['e:Post', 'p:Post:a'], undefined, after)).toBeUndefined() // no versions: the stamp
    const blind = new Promise<Outcome>(() => {})
    flights.start('r', undefined, blind, at(flights, -1))
    flights.wrote(['e:Post'])
    expect(flights.join('r', ['e:Post'], [1], flights.begin())).toBeUndefined() // a flight without versions
  })

  it('dates a flight by when its read began: one started after a write, from a snapshot taken before it, is not shared', () => {
    const flights = new Flights<Outcome>(200)
    // A read begins and takes its snapshot; meanwhile the process writes, and a read begins after the write returned.
    const first = flights.begin()
    flights.wrote(['m:Post'])
    const second = flights.begin()
    // Only now has the first read its snapshot and starts its flight: it may answer from an entry of before the write.
    const work = new Promise<Outcome>(() => {})
    flights.start('q', [1], work, first)
    expect(flights.join('q', ['m:Post'], [2], second)).toBeUndefined()
    expect(flights.join('q', ['m:Post'], undefined, second)).toBeUndefined()
    expect(flights.join('q', ['m:User'], [2], second)).toBeUndefined() // newer versions, flight's read began earlier
  })

  it('answered: only reads begun before its read began still take its answer; a failed one is dropped', async () => {
    const flights = new Flights<Outcome>(200)
    const early = flights.begin()
    const done = Promise.resolve(outcome(1))
    flights.start('q', undefined, done, at(flights, 0))
    await done
    await Promise.resolve()
    expect(flights.join('q', [], undefined, early)).toBe(done)
    expect(flights.join('q', [], undefined, at(flights, 1))).toBeUndefined()
    const failed = Promise.reject(new Error('db'))
    failed.catch(() => undefined)
    flights.start('f', undefined, failed, at(flights, 0))
    await failed.catch(() => undefined)
    await Promise.resolve()
    expect(flights.join('f', [], undefined, early)).toBeUndefined()
  })
  it('lets go of answers past keepMs without any timer running (a database answering without I/O never yields)', async () => {
    const flights = new Flights<Outcome>(0)
    for (let i = 0; i < 5000; i++) {
      await flights.start(`q${i}`, undefined, Promise.resolve(outcome({ row: i })), flights.begin())
    }
    // Only microtasks have run: no timer could have dropped a flight. The sweep did, every 1,000 flights started.
    const kept = (flights as unknown as { byKey: Map<string, unknown> }).byKey.size
    expect(kept).toBeLessThanOrEqual(1000)
  })
})
