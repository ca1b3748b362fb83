/**
 * Stale-while-revalidate: a read served an entry past its TTL (but within `swr`, versions current) starts one
 * refresh in the background, once per query in this process and, with leases, once across instances. A refresh
 * that fails leaves the stale entry in place (it may then be served within `grace`); its error is reported.
 */
import type { Engine } from '../engine'
import { RefreshFailedError, StrataError } from '../errors'
import { load } from './fill'
import type { ReadCall } from './read-call'

export function refreshInBackground(engine: Engine, call: ReadCall, text: string, deps: string[]): void {
  refreshOnce(engine, text, async () => {
    const versions = await engine.versions.snapshot(deps)
    if (versions === undefined) return
    const redisKey = engine.redis ? engine.keys.entry(call.model, text) : undefined
    let lease: string | undefined
    if (engine.leases && redisKey) {
      const acquired = await engine.leases.acquire(text)
      if (typeof acquired !== 'string') return // another instance refreshes it, or Redis is away
      lease = acquired
    }
    engine.stats.refreshes++
    await load(engine, call, { text, deps, versions, redisKey, lease })
  })
}

/**
 * Runs `work` in the background unless a refresh of `key` is already under way in this process; a failure is
 * reported, never thrown. Shared by query entries and write-through rows.
 */
export function refreshOnce(engine: Engine, key: string, work: () => Promise<void>): void {
  if (engine.refreshing.has(key)) return
  engine.refreshing.add(key)
  const refresh = work()
    .catch((error) => engine.report(error instanceof StrataError ? error : new RefreshFailedError(error)))
    .finally(() => engine.refreshing.delete(key))
  engine.inBackground(refresh)
}
