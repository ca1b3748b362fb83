// A caller that keeps the event loop: no timer, no I/O callback runs until it returns.

/** Busy for `ms` in this turn. */
export function busy(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // the turn goes on
  }
}
