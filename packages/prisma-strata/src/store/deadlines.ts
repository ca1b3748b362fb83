/**
 * The deadlines of the Redis commands under way, served by one timer. A timer per command cost every Redis hit a
 * timer list of its own (each budget is a fraction of a millisecond off the last, and Node keeps one list per
 * duration), plus the promise that raced it; here a command costs a set insertion and deletion, and the timer is
 * armed again only when it fires or an earlier deadline comes in (a call with less budget left).
 */

/** A command under way: `expire` runs at `deadline` (a `performance.now()` time) unless it was `delete`d first. */
export interface Expiring {
  readonly deadline: number
  expire(): void
}

export class Deadlines {
  private readonly pending = new Set<Expiring>()
  private timer: NodeJS.Timeout | undefined
  /** When the timer fires: never after the earliest pending deadline. */
  private armedFor = Number.POSITIVE_INFINITY

  add(item: Expiring): void {
    this.pending.add(item)
    if (item.deadline < this.armedFor) this.arm(item.deadline)
  }

  delete(item: Expiring): void {
    this.pending.delete(item)
  }

  private arm(at: number): void {
    clearTimeout(this.timer)
    this.armedFor = at
    // Past or fractional delays are fine: Node fires after 1 ms at least, and `fire` only expires what is due.
    this.timer = setTimeout(this.fire, at - performance.now())
    // The command keeps the process alive (its connection, or the client's reconnection timer): not this timer.
    this.timer.unref()
  }

  private readonly fire = (): void => {
    this.timer = undefined
    this.armedFor = Number.POSITIVE_INFINITY
    const now = performance.now()
    let next = Number.POSITIVE_INFINITY
    for (const item of this.pending) {
      if (item.deadline <= now) {
        this.pending.delete(item)
        item.expire()
      } else if (item.deadline < next) next = item.deadline
    }
    if (next !== Number.POSITIVE_INFINITY && next < this.armedFor) this.arm(next)
  }
}
