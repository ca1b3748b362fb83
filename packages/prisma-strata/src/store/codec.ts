/**
 * Values as bytes (msgpackr), exact for every Prisma type: Date, BigInt, Decimal, Bytes (as `Uint8Array`, copied
 * out so a caller mutating it cannot touch the cache), Json (an own `__proto__` key included), -0, null. An entry
 * in Redis is a small frame: a magic byte, a format version (a future encoding can never misread old entries),
 * then the query text it answers, its dependencies, the versions it was filled under, its expiry and the value.
 * Bytes under our keys may have been written by anyone: msgpackr only reads bytes that `scanValue` accepts (plain
 * MessagePack and our extensions), anything else is a `CodecError`.
 */
import { Packr, Unpackr } from 'msgpackr'
import { CodecError } from '../errors'
import { prepare } from './value-prepare'
import { scanValue } from './value-scan'

// Plain MessagePack: no records, references or msgpackr types, so the bytes are ones `scanValue` accepts.
const options = {
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  int64AsType: 'bigint',
  variableMapSize: true, // exact map headers, also for objects of more than 65,535 keys
  useToJSON: false, // a Json key named `toJSON` is data, not a method
  copyBuffers: true, // Bytes own their memory: neither the frame nor a caller's copy reaches the other
} as const
const packr = new Packr(options)
const unpackr = new Unpackr({ ...options, mapsAsObjects: true })
// For the rare value with a `__proto__` key, which msgpackr's objects rename: maps, then own properties.
const mapUnpackr = new Unpackr({ ...options, mapsAsObjects: false })

const MAGIC = 0x53 // 'S'
/** Bump when the frame or the value encoding changes: entries of another format read as misses. */
export const FORMAT_VERSION = 3

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
  const prepared = prepare(value)
  try {
    // A copy: msgpackr's result is a view of a buffer it fills again and would keep alive.
    return new Uint8Array(packr.pack(prepared))
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

export function encodeEntry(entry: StoredEntry): Buffer {
  const body = packr.pack([
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
    parts = decodeValue(frame.subarray(2))
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
