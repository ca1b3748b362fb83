/**
 * Where cache-side faults go: counted, handed to `onError`, and logged at most once per code per interval so a
 * Redis outage does not flood the logs. Never thrown.
 */
import type { StrataError } from '../errors'
import type { Stats } from './stats'

const LOG_INTERVAL_MS = 10_000

export type Reporter = (error: StrataError) => void

export function createReporter(stats: Stats, onError: ((error: StrataError) => void) | undefined): Reporter {
  const lastLogged = new Map<string, number>()
  return (error) => {
    stats.error(error.code)
    if (onError) {
      try {
        const result: unknown = onError(error)
        // An async onError that rejects must not become an unhandled rejection either.
        if (typeof (result as { then?: unknown } | null)?.then === 'function') {
          ;(result as PromiseLike<unknown>).then(undefined, () => undefined)
        }
      } catch {
        // A faulty hook must not turn a cache fault into a caller's error.
      }
      return
    }
    const now = Date.now()
    if ((lastLogged.get(error.code) ?? 0) + LOG_INTERVAL_MS > now) return
    lastLogged.set(error.code, now)
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
    console.warn(`[prisma-strata] ${error.code} ${error.message}${cause}`)
  }
}
