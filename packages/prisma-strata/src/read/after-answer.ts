/**
 * Work a read does for later readers once its own answer is on its way: storing a fill in Redis. It runs in the
 * check phase of the event loop (setImmediate), after the microtasks that hand the answer to the caller, so
 * neither its encoding nor its socket write delays the caller's result.
 */
export function afterAnswer<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<void>((resolve) => setImmediate(resolve)).then(work)
}
