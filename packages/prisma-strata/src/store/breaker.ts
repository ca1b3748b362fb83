/**
 * A circuit breaker for one Redis node: after 3 failing periods in a row it skips the node for 0.5 s, doubling up
 * to 10 s while trial calls keep failing. A failing period counts once, however many calls were in flight in it.
 */
const THRESHOLD = 3
const MIN_OPEN_MS = 500
const MAX_OPEN_MS = 10_000

export class Breaker {
  private failures = 0
  private openUntil = 0
  private openFor = MIN_OPEN_MS
  /** When the last counted failure was seen: a call started before it failed in that same period. */
  private lastFailure = Number.NEGATIVE_INFINITY

  /** False while open: callers skip the node without waiting. */
  get available(): boolean {
    return this.openUntil <= performance.now()
  }

  /** A call answered (a trial, or an urgent call through the open breaker): the node is back. */
  succeeded(): void {
    this.failures = 0
    this.openUntil = 0
    this.openFor = MIN_OPEN_MS
  }

  /** A call started at `startedAt` (a `performance.now()` time) failed. */
  failed(startedAt: number): void {
    // Calls in flight when a failure was counted fail for the same reason: counting each would open the breaker
    // (and double its time) once per request in flight instead of once per failing period.
    if (startedAt <= this.lastFailure) return
    const now = performance.now()
    this.lastFailure = now
    if (++this.failures >= THRESHOLD) {
      this.openUntil = now + this.openFor
      this.openFor = Math.min(this.openFor * 2, MAX_OPEN_MS)
    }
  }

  /** The node answers again (its connection is ready): close now instead of waiting for a trial call. */
  reset(): void {
    this.failures = 0
    this.openUntil = 0
    this.openFor = MIN_OPEN_MS
    this.lastFailure = Number.NEGATIVE_INFINITY
  }
}
