/**
 * The observation hooks of `cache(...)`, and `combineHooks` to pass several sets of them at once (your own, the
 * Prometheus collector's, the OpenTelemetry tracer's): `cache({ redis, ...combineHooks(metrics.hooks, tracing) })`.
 */
import type { CacheOptions } from '../options'

/** The hooks `cache(...)` accepts: `onHit`, `onMiss`, `onInvalidate`, `onError`. */
export type StrataHooks = Pick<CacheOptions, 'onHit' | 'onMiss' | 'onInvalidate' | 'onError'>

const hookNames = ['onHit', 'onMiss', 'onInvalidate', 'onError'] as const

/**
 * One set of hooks calling every given one in order. A hook given once is passed through as is (no extra call on
 * the hit path). When one throws, the others still run and the first error is rethrown (Strata reports it as
 * `E_HOOK`; it never reaches the caller).
 */
export function combineHooks(...sets: Array<StrataHooks | undefined>): StrataHooks {
  const combined: Record<string, unknown> = {}
  for (const name of hookNames) {
    const hooks = sets.flatMap((set) => (set?.[name] ? [set[name] as (event: unknown) => void] : []))
    if (hooks.length === 1) combined[name] = hooks[0]
    else if (hooks.length > 1) combined[name] = callEach(hooks)
  }
  return combined as StrataHooks
}

function callEach(hooks: Array<(event: unknown) => void>): (event: unknown) => void {
  return (event) => {
    let failure: { error: unknown } | undefined
    for (const hook of hooks) {
      try {
        hook(event)
      } catch (error) {
        failure ??= { error }
      }
    }
    if (failure) throw failure.error
  }
}
