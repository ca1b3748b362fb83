/**
 * Fills stored after the answer (where the cache has Redis: see `QueryEntry.store`): a miss hands the caller
 * Prisma's result as soon as the database answers, and stores it (encoding, the local entry, the Redis SET) in the
 * check phase of the event loop, once the microtasks that carry the answer to the caller have run. In a process
 * that reads in sequence, that work then runs while the next read waits on its own round trip. What is stored is
 * the read's master copy, taken before the answer went out, so nothing the caller does to its result reaches the
 * cache; and it is stored under the snapshot taken before the SQL, so a write in between leaves it under versions
 * no read asks for (design invariant 2, docs/design.md). Nothing else observes the difference: a read of the same
 * text stores the pending fill before it looks (a repeated read is still a local hit), `stats()`, `resetStats()`
 * and `close()` store every pending fill first, and until a fill is stored its flight stays open (`landed`), so
 * identical reads share it rather than query again.
 */
import { CodecError, StrataError } from '../errors'
import type { ReportError } from '../observe/reporter'

/** A fill to store: what it gives back is what is still on its way to Redis, if anyone should wait for it. */
export type StoreFill = () => Promise<unknown> | undefined

/** Past this many fills waiting, they are stored at once: what they hold and the flights they keep open are bounded. */
const MAX_PENDING = 256

interface Pending {
  store: StoreFill
  stored: (landed: Promise<unknown> | undefined) => void
}

export class PendingFills {
  private readonly byText = new Map<string, Pending>()

  constructor(
    private readonly report: ReportError,
    /** Called once the fills of a turn are stored: what they send goes out now, together. */
    private readonly flushed: () => void,
  ) {}

  /** How many fills wait. */
  get size(): number {
    return this.byText.size
  }

  /**
   * Stores `store`'s fill of `text` after this turn's answers: resolves once it is stored and what it sent has
   * landed. An earlier fill of the same text still waiting is stored first.
   */
  defer(text: string, store: StoreFill): Promise<unknown> {
    this.storeNow(text)
    // A process whose reads never wait on I/O (SQLite, local hits) may not reach the end of its turn for long.
    if (this.byText.size >= MAX_PENDING) this.flush()
    if (this.byText.size === 0) setImmediate(() => this.flush())
    return new Promise((stored) => this.byText.set(text, { store, stored }))
  }

  /** Stores the fill of `text` now, if one waits: before a read of `text` looks in the tiers. */
  storeNow(text: string): void {
    // On every read: no lookup (no hash of the text) while nothing waits, which is nearly always.
    if (this.byText.size === 0) return
    const pending = this.byText.get(text)
    if (pending === undefined) return
    this.byText.delete(text)
    this.run(pending)
  }

  /** Stores every waiting fill. */
  flush(): void {
    if (this.byText.size === 0) return
    const all = [...this.byText.values()]
    this.byText.clear()
    for (const pending of all) this.run(pending)
    this.flushed()
  }

  private run({ store, stored }: Pending): void {
    try {
      stored(store())
    } catch (error) {
      // The caller has its answer already: a fill that cannot be stored is reported, never thrown.
      this.report(error instanceof StrataError ? error : new CodecError('a result could not be stored', error))
      stored(undefined)
    }
  }
}
