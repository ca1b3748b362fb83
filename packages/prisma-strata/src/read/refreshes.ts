/**
 * Background refreshes under way in this process (stale-while-revalidate): at most one per entry. A refresh that
 * fails is reported, never thrown: the stale entry stays and may still be served within `grace`.
 */
import { RefreshFailedError, StrataError } from '../errors'
import type { ReportError } from '../observe/reporter'

export class Refreshes {
  private readonly running = new Set<string>()

  constructor(
    private readonly report: ReportError,
    /** Tracks work the caller does not wait for, so that `close()` can let it finish. */
    private readonly inBackground: (work: Promise<unknown>) => void,
  ) {}

  /** Runs `work` in the background unless a refresh of `key` is already under way. */
  once(key: string, work: () => Promise<void>): void {
    if (this.running.has(key)) return
    this.running.add(key)
    const refresh = work()
      .catch((error) => this.report(error instanceof StrataError ? error : new RefreshFailedError(error)))
      .finally(() => this.running.delete(key))
    this.inBackground(refresh)
  }
}
