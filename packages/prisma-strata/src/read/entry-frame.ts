/**
 * Reading an entry frame found in Redis: bytes under our keys may have been written by anyone (another version of
 * Strata, another program, an attacker). Anything unreadable is reported, never thrown, and reads as a miss.
 */
import type { Engine } from '../engine'
import { CodecError } from '../errors'
import { decodeEntry, decodeValue, type Expected, type StoredEntry } from '../store/codec'

/**
 * The entry of a frame and its decoded value, if it is one of ours, within `maxEntryBytes`, `accept`ed, and a value
 * that `fits` the read; otherwise undefined. `expected`: the texts the reader looks for (see `decodeEntry`).
 */
export function readEntry(
  engine: Engine,
  frame: Buffer,
  accept: (entry: StoredEntry) => boolean,
  fits: (value: unknown) => boolean,
  expected?: Expected,
): { entry: StoredEntry; value: unknown } | undefined {
  if (frame.length > engine.maxEntryBytes + 1024) {
    engine.reporter.tooLarge(frame.length)
    return undefined
  }
  try {
    const entry = decodeEntry(frame, expected)
    if (!accept(entry)) return undefined
    const value = decodeValue(entry.value)
    if (!fits(value)) throw new CodecError('an entry holds a value of another shape than its read returns')
    return { entry, value }
  } catch (error) {
    engine.reporter.codec('an entry under one of our keys could not be read', error)
    return undefined
  }
}
