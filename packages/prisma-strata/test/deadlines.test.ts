import { afterEach, describe, expect, it, vi } from 'vitest'
import { Deadlines, type Expiring } from '../src/store/deadlines'

/** A command under way: it records whether it expired, and leaves the queue when it settles. */
function command(deadlines: Deadlines, budget: number) {
  const item = {
    deadline: performance.now() + budget,
    settled: false,
    expired: false,
    expire() {
      item.settled = true
      item.expired = true
      deadlines.settled(item)
    },
    answer() {
      item.settled = true
      deadlines.settled(item)
    },
  }
  deadlines.add(item satisfies Expiring)
  return item
}

describe('deadlines of Redis commands', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('expires the commands still under way at their deadline, and none that answered', () => {
    vi.useFakeTimers()
    const deadlines = new Deadlines()
    const commands = Array.from({ length: 6 }, () => command(deadlines, 200))
    // Answered out of order: the second and the fourth, then the first (the front of the queue).
    commands[1]?.answer()
    commands[3]?.answer()
    commands[0]?.answer()
    vi.advanceTimersByTime(199)
    expect(commands.map((c) => c.expired)).toEqual([false, false, false, false, false, false])
    vi.advanceTimersByTime(2)
    expect(commands.map((c) => c.expired)).toEqual([false, false, true, false, true, true])
  })

  it('honours a later command with less budget left, and the earlier ones at their own deadlines', () => {
    vi.useFakeTimers()
    const deadlines = new Deadlines()
    const long = command(deadlines, 200)
    vi.advanceTimersByTime(10)
    const short = command(deadlines, 30) // a read whose budget is mostly spent
    vi.advanceTimersByTime(31)
    expect([long.expired, short.expired]).toEqual([false, true])
    vi.advanceTimersByTime(158)
    expect(long.expired).toBe(false)
    vi.advanceTimersByTime(2)
    expect(long.expired).toBe(true)
  })

  it('keeps serving deadlines after its queue emptied, and after thousands of commands behind a slow one', () => {
    vi.useFakeTimers()
    const deadlines = new Deadlines()
    for (let i = 0; i < 3; i++) command(deadlines, 100).answer()
    const slow = command(deadlines, 100)
    const fast = Array.from({ length: 5000 }, () => command(deadlines, 100))
    for (const c of fast) c.answer()
    const last = command(deadlines, 100)
    vi.advanceTimersByTime(101)
    expect([slow.expired, last.expired, fast.some((c) => c.expired)]).toEqual([true, true, false])
    const after = command(deadlines, 50)
    vi.advanceTimersByTime(51)
    expect(after.expired).toBe(true)
  })

  it('after a held turn, judges the commands due only once pending replies are read; later ones keep their timer', () => {
    // Fake timers run each timer at its own due time: `performance.now` runs ahead of them by what the process held.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] })
    const base = Date.now()
    let held = 0
    vi.spyOn(performance, 'now').mockImplementation(() => Date.now() - base + held)
    try {
      const deadlines = new Deadlines()
      const answered = command(deadlines, 100)
      const unanswered = command(deadlines, 100)
      held = 50 // the process held its event loop 50 ms past their deadline
      // The timer fires late: nothing expires before pending I/O is read. (Fake timers run an immediate queued during
      // a tick 1 ms later, so it is still pending here.)
      vi.advanceTimersByTime(100)
      expect([answered.expired, unanswered.expired]).toEqual([false, false])
      answered.answer() // its reply, read from the socket
      const sent = command(deadlines, 20) // a command sent meanwhile
      vi.advanceTimersByTime(1) // the deferred judgement
      expect([answered.expired, unanswered.expired, sent.expired]).toEqual([false, true, false])
      vi.advanceTimersByTime(20)
      expect(sent.expired).toBe(true)
    } finally {
      vi.restoreAllMocks()
    }
  })
})
