// Time a call took while this process was able to run. A test that bounds how long a call waits on a slow or dead
// Redis (at most one timeout, say) measures what Strata controls: its timers and its waits. On a 2-core machine
// shared with another test run, the process is descheduled for tens to hundreds of milliseconds at a time, and
// that time would make a wall-clock bound fail on scheduling, not on Strata. A 5 ms interval timer watches the
// event loop: a gap of more than 10 ms between two of its runs is time in which no timer, socket or promise of
// this process could run, so it is not counted. (A long synchronous task of the process itself is such a gap too:
// these bounds are about waiting, and CPU-bound slowness is measured by the benchmarks, not by tests.)
const TICK_MS = 5
const STALL_MS = 10

export class RunningTime {
  private stalled = 0
  private last = performance.now()
  private readonly timer = setInterval(() => this.turn(), TICK_MS)

  private turn(): void {
    const now = performance.now()
    if (now - this.last > STALL_MS) this.stalled += now - this.last - TICK_MS
    this.last = now
  }

  /** A clock (ms) that stands still while this process is stalled: differences of it are running time. */
  now(): number {
    this.turn()
    return performance.now() - this.stalled
  }

  /** `fn`'s duration in ms, without the stalls of this process while it ran. */
  async measure(fn: () => Promise<unknown>): Promise<number> {
    this.turn()
    const started = performance.now()
    const stalledBefore = this.stalled
    await fn()
    this.turn()
    return performance.now() - started - (this.stalled - stalledBefore)
  }

  stop(): void {
    clearInterval(this.timer)
  }
}

/**
 * Polls `done` every `pauseMs` until it holds or `limitMs` of running time have passed (a loaded machine's stalls do
 * not count); the caller then asserts what it waited for.
 */
export async function waitUntil(done: () => boolean | Promise<boolean>, limitMs = 10_000, pauseMs = 10): Promise<void> {
  const clock = new RunningTime()
  try {
    const until = clock.now() + limitMs
    while (!(await done()) && clock.now() < until) await new Promise((resolve) => setTimeout(resolve, pauseMs))
  } finally {
    clock.stop()
  }
}
