import { describe, expect, it } from 'vitest'
import { TurnBatch } from '../src/store/turn-batch'

describe('TurnBatch', () => {
  it('answers every request of one turn with one call, each with its own answer, in order', async () => {
    const calls: string[][] = []
    const batch = new TurnBatch<string, string>(200, async (requests) => {
      calls.push(requests)
      return requests.map((r) => r.toUpperCase())
    })
    const answers = await Promise.all(['a', 'b', 'c'].map((r) => batch.request('', r)))
    expect(answers).toEqual(['A', 'B', 'C'])
    expect(calls).toEqual([['a', 'b', 'c']])
    // A request made once the call was sent goes into the next one: it never takes an answer older than itself.
    expect(await batch.request('', 'd')).toBe('D')
    expect(calls).toEqual([['a', 'b', 'c'], ['d']])
  })

  it('keys batch apart; a failed or throwing call answers undefined to all', async () => {
    const sent: string[] = []
    const batch = new TurnBatch<string, number>(200, async (requests) => {
      sent.push(requests.join())
      if (requests[0] === 'fail') return undefined
      if (requests[0] === 'throw') throw new Error('x')
      return requests.map((r) => r.length)
    })
    const answers = await Promise.all([
      batch.request('one', 'ab'),
      batch.request('two', 'fail'),
      batch.request('one', 'abc'),
      batch.request('three', 'throw'),
    ])
    expect(answers).toEqual([2, undefined, 3, undefined])
    expect(sent).toEqual(['ab,abc', 'fail', 'throw'])
  })

  it('gives the call the smallest budget left, counted from the send; a spent budget skips Redis', async () => {
    let deadline = 0
    const batch = new TurnBatch<string, string>(200, async (requests, d) => {
      deadline = d
      return requests
    })
    const now = performance.now()
    const tight = { deadline: now + 50 }
    const loose = { deadline: now + 180 }
    await Promise.all([batch.request('', 'a', loose), batch.request('', 'b', tight)])
    // Waiting for the end of the turn is not Redis time: each budget moved by that wait (the first asked, the most).
    expect(deadline).toBe(tight.deadline)
    expect(tight.deadline).toBeGreaterThanOrEqual(now + 50)
    expect(loose.deadline - tight.deadline).toBeGreaterThanOrEqual(130)
    let called = false
    const skip = new TurnBatch<string, string>(200, async (requests) => {
      called = true
      return requests
    })
    expect(await skip.request('', 'x', { deadline: performance.now() - 1 })).toBeUndefined()
    expect(called).toBe(false)
  })
})
