/**
 * Redis requests made in one turn of the event loop, answered by one call sent at its end: a burst of reads costs
 * Redis one call, not one per reader, and its readers get their answers together. A request only ever joins a call
 * not yet sent, so its answer is as recent as a call of its own would have been.
 */

/** What a read may still wait on Redis: until `deadline`, a `performance.now()` time. */
export interface Budget {
  deadline: number
}

interface Waiter<A> {
  budget: Budget | undefined
  asked: number
  resolve(answer: A | undefined): void
}

interface Open<Q, A> {
  requests: Q[]
  waiters: Waiter<A>[]
}

/** `send` answers the requests of one turn in order, or `undefined` when Redis did not answer. */
export type SendBatch<Q, A> = (requests: Q[], deadline: number) => Promise<Array<A | undefined> | undefined>

export class TurnBatch<Q, A> {
  private readonly open = new Map<string, Open<Q, A>>()

  constructor(
    private readonly timeoutMs: number,
    private readonly send: SendBatch<Q, A>,
  ) {}

  /** Requests sharing `key` within one turn share one call. Without a budget, the call's timeout applies. */
  request(key: string, request: Q, budget?: Budget): Promise<A | undefined> {
    const asked = performance.now()
    // A spent budget skips Redis, as a call of its own would: it must not cut its turn-mates' call short.
    if (budget !== undefined && budget.deadline <= asked) return Promise.resolve(undefined)
    let batch = this.open.get(key)
    if (batch === undefined) {
      const opened: Open<Q, A> = { requests: [], waiters: [] }
      this.open.set(key, opened)
      // setImmediate, not a microtask: requests arriving from every I/O callback of this turn join the call.
      setImmediate(() => {
        this.open.delete(key)
        void this.flush(opened)
      })
      batch = opened
    }
    const waiters = batch.waiters
    batch.requests.push(request)
    return new Promise((resolve) => {
      waiters.push({ budget, asked, resolve })
    })
  }

  private async flush({ requests, waiters }: Open<Q, A>): Promise<void> {
    const sent = performance.now()
    let deadline = sent + this.timeoutMs
    for (const w of waiters) {
      if (w.budget === undefined) continue
      // Waiting for the end of the turn is this process's time, not Redis's: a budget counts from the send.
      w.budget.deadline += sent - w.asked
      if (w.budget.deadline < deadline) deadline = w.budget.deadline
    }
    let answers: Array<A | undefined> | undefined
    try {
      answers = await this.send(requests, deadline)
    } catch {
      answers = undefined
    }
    waiters.forEach((w, i) => {
      w.resolve(answers?.[i])
    })
  }
}
