/**
 * Values as bytes, exact for every Prisma type: Date, BigInt, Decimal, Bytes (as `Uint8Array`, copied out so a
 * caller mutating it cannot touch the cache), Json (an own `__proto__` key included), -0, null. An entry in Redis
 * is a small frame: a magic byte, a format version (a future encoding can never misread old entries), then the
 * query text it answers, its dependencies, the versions it was filled under, its expiry and the value.
 * Decoding accepts only what encoding writes (value-decoder.ts): foreign or hostile bytes are a `CodecError`.
 */
import { CodecError } from '../errors'
import { decode } from './value-decoder'
import { encode } from './value-encoder'

const MAGIC = 0x53 // 'S'
/** Bump when the frame or the value encoding changes: entries of another format read as misses. */
export const FORMAT_VERSION = 2

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
  value: Uint8Array
}

/** Throws `CodecError` for a value Prisma never returns (a Map, a class instance, a cycle...). */
export function encodeValue(value: unknown): Uint8Array {
  return encode(value)
}

/** Throws `CodecError` for bytes `encodeValue` did not write. */
export function decodeValue(bytes: Uint8Array): unknown {
  return decode(bytes)
}

export function encodeEntry(entry: StoredEntry): Buffer {
  const body = encode([
    entry.query,
    entry.deps,
    entry.versions,
    entry.freshUntil,
    entry.staleUntil,
    entry.expiresAt,
    entry.value,
  ])
  const frame = Buffer.allocUnsafe(body.length + 2)
  frame[0] = MAGIC
  frame[1] = FORMAT_VERSION
  frame.set(body, 2)
  return frame
}

/** Decodes a frame read from Redis; anything that is not one of ours, of this format, throws `CodecError`. */
export function decodeEntry(frame: Buffer): StoredEntry {
  if (frame.length < 3 || frame[0] !== MAGIC) throw new CodecError('not a Strata entry (foreign bytes under our key)')
  if (frame[1] !== FORMAT_VERSION)
    throw new CodecError(`entry of format ${frame[1]}, this version reads ${FORMAT_VERSION}`)
  let parts: unknown
  try {
    parts = decode(frame.subarray(2))
  } catch (error) {
    throw new CodecError('corrupt or truncated entry', error)
  }
  if (!Array.isArray(parts) || parts.length !== 7) throw new CodecError('entry has the wrong shape')
  const [query, deps, versions, freshUntil, staleUntil, expiresAt, value] = parts as unknown[]
  if (
    typeof query !== 'string' ||
    !Array.isArray(deps) ||
    !Array.isArray(versions) ||
    deps.length !== versions.length ||
    !deps.every((name) => typeof name === 'string') ||
    !versions.every(Number.isFinite) ||
    !Number.isFinite(freshUntil) ||
    !Number.isFinite(staleUntil) ||
    !Number.isFinite(expiresAt) ||
    !(value instanceof Uint8Array)
  ) {
    throw new CodecError('entry has the wrong shape')
  }
  return { query, deps, versions, freshUntil, staleUntil, expiresAt, value } as StoredEntry
}
