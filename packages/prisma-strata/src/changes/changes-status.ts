/** What `stats().changes` says of following the database's change stream. */

/** The follower's state, as `stats().changes` shows it. */
export interface ChangesStatus {
  /** Whether this instance follows the stream now. */
  following: boolean
  /** Bytes of WAL the slot holds past what was acknowledged (every instance measures it); undefined before known. */
  lagBytes: number | undefined
  /**
   * Milliseconds since the commit of the oldest change this follower received and has not acknowledged (0 when
   * it is caught up; undefined when it does not follow). Commit times are the database server's clock.
   */
  lagMs: number | undefined
  /** Transactions received, and bumps sent (several transactions share one when they arrive together). */
  transactions: number
  bumps: number
}
