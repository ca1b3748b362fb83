/**
 * Values as bytes (msgpackr), exact for every Prisma type: Date, BigInt, Decimal, Bytes (as `Uint8Array`, copied
 * out so a caller mutating it cannot touch the cache), Json (an own `__proto__` key included), -0, null. A value
 * that lists rows is written with msgpackr's records (each shape's keys once, in the value itself), anything else
 * with maps: records halve a list's bytes and decode a long one faster (value-prepare.ts says when). An entry
 * in Redis is a small frame: a magic byte, a format version (a future encoding can never misread old entries),
 * then its expiry, the query text it answers, its dependencies and the versions it was filled under, and the value.
 * Bytes under our keys may have been written by anyone: msgpackr only reads bytes that `scanValue` accepts (plain
 * MessagePack and our extensions), anything else is a `CodecError`.
 */
import { isUtf8 } from 'node:buffer'
import { Packr, Unpackr } from 'msgpackr'
import { CodecError } from '../errors'
import { prepared } from './value-prepare'
import { scanValue } from './value-scan'

// MessagePack and msgpackr's records (each value defines its own: an entry is read without any other), no
// references or msgpackr types: bytes `scanValue` accepts.
const options = {
  structuredClone: false,
  moreTypes: false,
  int64AsType: 'bigint',
  variableMapSize: true, // exact map headers, also for objects of more than 65,535 keys
  useToJSON: false, // a Json key named `toJSON` is data, not a method
  copyBuffers: true, // Bytes own their memory: neither the frame nor a caller's copy reaches the other
} as const
const mapPackr = new Packr({ ...options, useRecords: false })
const recordPackr = new Packr({ ...options, useRecords: true })
// Either form: msgpackr reads a record wherever the value defined one.
const unpackr = new Unpackr({ ...options, mapsAsObjects: true })
// For the rare value with a `__proto__` key, which msgpackr's objects rename: maps, then own properties.
const mapUnpackr = new Unpackr({ ...options, mapsAsObjects: false })

const MAGIC = 0x53 // 'S'
/**
 * Bump when the frame or the value encoding changes so that one version could misread the other's entries: entries
 * of another format read as misses. Records needed none: a version that writes only maps refuses them (a miss), and
 * both read maps alike, so in a fleet being upgraded only lists miss across versions.
 */
export const FORMAT_VERSION = 4

/** What a Redis entry holds besides the value. */
export interface EntryMeta {
  /** The canonical query text: an entry is served only to the query it answers, whatever its key's hash. */
  query: string
  /** Version names the entry depends on, sorted. */
  deps: string[]
  /** The versions of `deps` when its query was sent. */
  versions: number[]
  /** Wall-clock ms until which the entry is fresh; then stale (served while a refresh runs) until `staleUntil`. */
  freshUntil: number
  staleUntil: number
  /** Wall-clock ms when the entry expires, so the local tier never keeps it longer than Redis. */
  expiresAt: number
}

export interface StoredEntry extends EntryMeta {
  /** The encoded value; in a decoded entry, a view of the frame's bytes (see `decodeEntry`). */
  value: Uint8Array
}

/** Throws `CodecError` for a value Prisma never returns (a Map, a class instance, a cycle...). */
export function encodeValue(value: unknown): Uint8Array {
  const { value: written, records } = prepared(value)
  try {
    // A copy: msgpackr's result is a view of a buffer it fills again and would keep alive.
    return new Uint8Array((records ? recordPackr : mapPackr).pack(written))
  } catch (error) {
    throw new CodecError('the value could not be encoded', error)
  }
}

/** Throws `CodecError` for bytes `encodeValue` did not write. */
export function decodeValue(bytes: Uint8Array): unknown {
  // A plain view: msgpackr's copies of a Buffer's bytes would be Buffers, which Prisma never returns.
  const view = Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes
  const protoKey = scanValue(view)
  try {
    return protoKey ? ownKeys(mapUnpackr.unpack(view)) : unpackr.unpack(view)
  } catch (error) {
    throw new CodecError('a value that does not decode', error)
  }
}

/** Maps (all keys are strings) as plain objects, a `__proto__` key as an own property, as `JSON.parse` does. */
function ownKeys(value: unknown): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of value) {
      Object.defineProperty(out, key, { value: ownKeys(item), writable: true, enumerable: true, configurable: true })
    }
    return out
  }
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) value[i] = ownKeys(value[i])
  return value
}

/*
 * A frame is read on every Redis hit, so its head is fixed-layout binary that is read in place, and the value's
 * MessagePack follows it to the end of the frame, decoded straight from the frame's bytes (nothing is copied out
 * and nothing is scanned twice). Big-endian throughout:
 *   magic, format (2 bytes) | freshUntil, staleUntil, expiresAt (float64 each) | query length (uint32), query
 *   (UTF-8) | dependency count (uint16), then per dependency: name length (uint16), name (UTF-8), version
 *   (float64) | the value.
 */
const HEAD = 2 + 3 * 8 + 4
const MAX_DEPS = 0xffff
const MAX_NAME = 0xffff

export function encodeEntry(entry: StoredEntry): Buffer {
  const { deps, versions, value } = entry
  if (deps.length > MAX_DEPS || deps.length !== versions.length) throw new CodecError('entry has the wrong shape')
  const queryBytes = Buffer.byteLength(entry.query)
  let size = HEAD + queryBytes + 2 + value.byteLength
  const nameBytes = deps.map((name) => {
    const length = Buffer.byteLength(name)
    if (length > MAX_NAME) throw new CodecError('a dependency name too long for an entry')
    size += 2 + length + 8
    return length
  })
  const frame = Buffer.allocUnsafe(size)
  frame[0] = MAGIC
  frame[1] = FORMAT_VERSION
  frame.writeDoubleBE(entry.freshUntil, 2)
  frame.writeDoubleBE(entry.staleUntil, 10)
  frame.writeDoubleBE(entry.expiresAt, 18)
  frame.writeUInt32BE(queryBytes, 26)
  let at = HEAD + frame.write(entry.query, HEAD)
  frame.writeUInt16BE(deps.length, at)
  at += 2
  for (let i = 0; i < deps.length; i++) {
    frame.writeUInt16BE(nameBytes[i] as number, at)
    at += 2
    at += frame.write(deps[i] as string, at)
    frame.writeDoubleBE(versions[i] as number, at)
    at += 8
  }
  frame.set(value, at)
  return frame
}

/** The query text and dependency names a reader expects an entry to hold (see `decodeEntry`). */
export interface Expected {
  query: string
  deps: readonly string[]
}

/**
 * Decodes a frame read from Redis; anything that is not one of ours, of this format, throws `CodecError`. The
 * entry's `value` is a view of the frame's bytes, for `decodeValue`: neither it nor the entry is to be kept (the
 * frame may be a slice of a larger buffer of the connection's). A text the frame holds that is the `expected` one
 * is compared in place and given as that very string (`deps` as that very array when every name is): a hit
 * decodes no text.
 */
export function decodeEntry(frame: Buffer, expected?: Expected): StoredEntry {
  if (frame.length < 3 || frame[0] !== MAGIC) throw new CodecError('not a Strata entry (foreign bytes under our key)')
  if (frame[1] !== FORMAT_VERSION)
    throw new CodecError(`entry of format ${frame[1]}, this version reads ${FORMAT_VERSION}`)
  const end = frame.length
  // Every length is checked against the bytes left before it is used: a truncated or forged head is refused.
  if (end < HEAD + 2) throw new CodecError('truncated entry')
  const freshUntil = frame.readDoubleBE(2)
  const staleUntil = frame.readDoubleBE(10)
  const expiresAt = frame.readDoubleBE(18)
  const queryBytes = frame.readUInt32BE(26)
  if (queryBytes > end - HEAD - 2) throw new CodecError('truncated entry')
  const query =
    expected && holds(frame, HEAD, queryBytes, expected.query) ? expected.query : text(frame, HEAD, queryBytes)
  let at = HEAD + queryBytes
  const count = frame.readUInt16BE(at)
  at += 2
  // Each dependency takes 10 bytes at least: a count the bytes left cannot hold is refused before any allocation.
  if (count * 10 > end - at) throw new CodecError('truncated entry')
  // The expected names, while every name so far is one; else the names decoded.
  const known = expected?.deps.length === count ? expected.deps : undefined
  let deps: string[] | undefined
  const versions = new Array<number>(count)
  for (let i = 0; i < count; i++) {
    const length = frame.readUInt16BE(at)
    at += 2
    if (length + 8 > end - at) throw new CodecError('truncated entry')
    if (deps !== undefined || known === undefined || !holds(frame, at, length, known[i] as string)) {
      deps ??= known ? known.slice(0, i) : new Array<string>(count)
      deps[i] = text(frame, at, length)
    }
    at += length
    versions[i] = frame.readDoubleBE(at)
    at += 8
  }
  if (
    !Number.isFinite(freshUntil) ||
    !Number.isFinite(staleUntil) ||
    !Number.isFinite(expiresAt) ||
    !versions.every(Number.isFinite)
  ) {
    throw new CodecError('entry has the wrong shape')
  }
  // A plain view, not a Buffer: msgpackr's copies of a Buffer's bytes would be Buffers, which Prisma never returns.
  const value = new Uint8Array(frame.buffer, frame.byteOffset + at, end - at)
  // Never changed by a reader: the expected array may be given as the entry's own.
  return {
    query,
    deps: deps ?? (known as string[] | undefined) ?? [],
    versions,
    freshUntil,
    staleUntil,
    expiresAt,
    value,
  }
}

/**
 * Whether the `length` bytes at `at` are `expected`, when it is ASCII (one byte per character); a text with other
 * characters is never `held` (it is decoded and compared as a string instead).
 */
function holds(frame: Buffer, at: number, length: number, expected: string): boolean {
  if (expected.length !== length) return false
  for (let i = 0; i < length; i++) {
    const code = expected.charCodeAt(i)
    if (code >= 0x80 || frame[at + i] !== code) return false
  }
  return true
}

/** `length` bytes of UTF-8 text at `at` (already checked to be within the frame), or `CodecError`. */
function text(frame: Buffer, at: number, length: number): string {
  const stop = at + length
  // Query texts and version names are mostly ASCII: one pass ORing the bytes finds out, without a call.
  let bits = 0
  for (let i = at; i < stop; i++) bits |= frame[i] as number
  if (bits < 0x80) return frame.toString('latin1', at, stop)
  if (!isUtf8(frame.subarray(at, stop))) throw new CodecError('entry text that is not UTF-8')
  return frame.toString('utf8', at, stop)
}
