/**
 * The deadlines of the Redis commands under way, served by one timer. A timer per command cost every Redis hit a
 * timer list of its own (each budget is a fraction of a millisecond off the last, and Node keeps one list per
 * duration), plus the promise that raced it. Here a command is appended to a queue and leaves it from the front
 * once it and every command before it have settled: commands on a connection are answered in the order they were
 * sent, so that is almost always at once. The timer is armed again only when it fires or when a command comes in
 * with an earlier deadline (less budget left).
 */

/** A command under way: `expire` runs at `deadline` (a `performance.now()` time) unless it `settled` first. */
export interface Expiring {
  readonly deadline: number
  readonly settled: boolean
  expire(): void
}

/**
 * An idle event loop runs a timer within a millisecond or two of its time: one this late means the loop was held,
 * and replies may be waiting unread (see `fire`).
 */
const LATE_MS = 10

/** Past this many settled commands at its front, the queue is compacted (one command slower than the rest). */
const COMPACT_AFTER = 1024

export class Deadlines {
  private queue: Expiring[] = []
  /** Index of the first command of `queue` that may still be under way. */
  private head = 0
  private timer: NodeJS.Timeout | undefined
  /** When the timer fires: never after the earliest deadline under way. */
  private armedFor = Number.POSITIVE_INFINITY

  add(item: Expiring): void {
    this.queue.push(item)
    if (item.deadline < this.armedFor) this.arm(item.deadline)
  }

  /** `item` has settled: drops it, and every settled command before the first one still under way. */
  settled(item: Expiring): void {
    const queue = this.queue
    if (queue[this.head] !== item) return // one before it is still under way: it leaves with that one
    let head = this.head + 1
    while (head < queue.length && (queue[head] as Expiring).settled) head++
    if (head === queue.length) {
      queue.length = 0
      this.head = 0
    } else if (head > COMPACT_AFTER && head * 2 > queue.length) {
      this.queue = queue.slice(head)
      this.head = 0
    } else this.head = head
  }

  private arm(at: number): void {
    clearTimeout(this.timer)
    this.armedFor = at
    // Past or fractional delays are fine: Node waits 1 ms at least, and `fire` only expires what is due.
    this.timer = setTimeout(this.fire, at - performance.now())
    // The command keeps the process alive (its connection, or the client's reconnection timer): not this timer.
    this.timer.unref()
  }

  private readonly fire = (): void => {
    const now = performance.now()
    const late = now - this.armedFor > LATE_MS
    this.timer = undefined
    this.armedFor = Number.POSITIVE_INFINITY
    // After a turn the process held (a long task, a GC pause), timers run before the sockets are read: a reply that
    // came in time would expire unread, and count against the breaker. Then the commands due by now are judged once
    // pending I/O is read (and only those: a command sent meanwhile has its own deadline, and its own timer). The
    // price, in a process whose every turn is late: a command to a Redis that does not answer is given up one poll
    // phase later (every I/O callback ready then runs first), until the breaker opens and no command waits at all.
    if (late) setImmediate(() => this.expireDue(now))
    else this.expireDue(now)
  }

  /** Expires the commands still under way whose deadline is `upTo` or earlier; arms the timer for the next one. */
  private expireDue(upTo: number): void {
    let next = Number.POSITIVE_INFINITY
    // A copy: an expiring command settles, which may drop it (and those after it) from the queue.
    const pending = this.queue.slice(this.head)
    for (const item of pending) {
      if (item.settled) continue
      if (item.deadline <= upTo) item.expire()
      else if (item.deadline < next) next = item.deadline
    }
    if (next < this.armedFor) this.arm(next)
  }
}
