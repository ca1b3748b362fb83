/**
 * Writes a value in the one encoding Strata reads back (see value-decoder.ts): a strict subset of MessagePack
 * (nil, booleans, 32-bit integers, float64, UTF-8 strings, binary, arrays, maps with string keys) plus the types
 * Prisma returns that MessagePack lacks: Date, BigInt (int64), Decimal, and `undefined` for `$cache.wrap` values.
 * No references and no msgpackr records (rows of one shape form a table that names its keys once, inside the
 * value), so the decoded value is never larger than its bytes suggest. Anything else (a Map, a class instance, a
 * cycle, nesting deeper than `MAX_DEPTH`) throws `CodecError`: it is not cached.
 */
import { Decimal } from '@prisma/client/runtime/client'
import { CodecError } from '../errors'

/** Deepest nesting of arrays and objects a value may have, on both sides. */
export const MAX_DEPTH = 100

/** Extension types (the byte after an ext header). */
export const EXT_DATE = 0x54 // 'T': float64 milliseconds since the epoch
export const EXT_DECIMAL = 0x44 // 'D': the decimal's text
export const EXT_UNDEFINED = 0x55 // 'U'
/** A byte MessagePack leaves unused: here it starts a table of rows (see `writeTable`). */
export const TABLE = 0xc1

const SCRATCH_BYTES = 8192
const SCRATCH_LIMIT = 1 << 20
let buf = Buffer.allocUnsafe(SCRATCH_BYTES)
let pos = 0

export function encode(value: unknown): Uint8Array {
  pos = 0
  write(value, 0)
  // A copy of the used part: the scratch buffer is reused by the next encode.
  const bytes = new Uint8Array(buf.subarray(0, pos))
  // One huge result must not pin a buffer of its size for the life of the process.
  if (buf.length > SCRATCH_LIMIT) buf = Buffer.allocUnsafe(SCRATCH_BYTES)
  return bytes
}

function ensure(bytes: number): void {
  if (pos + bytes <= buf.length) return
  const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + bytes))
  buf.copy(bigger, 0, 0, pos)
  buf = bigger
}

function write(value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string':
      writeString(value)
      return
    case 'number':
      writeNumber(value)
      return
    case 'boolean':
      ensure(1)
      buf[pos++] = value ? 0xc3 : 0xc2
      return
    case 'bigint':
      if (BigInt.asIntN(64, value) !== value) throw new CodecError('a BigInt outside 64 bits cannot be cached')
      ensure(9)
      buf[pos++] = 0xd3
      buf.writeBigInt64BE(value, pos)
      pos += 8
      return
    case 'undefined':
      ensure(3)
      buf[pos++] = 0xd4
      buf[pos++] = EXT_UNDEFINED
      buf[pos++] = 0
      return
    case 'object':
      if (value === null) {
        ensure(1)
        buf[pos++] = 0xc0
        return
      }
      writeObject(value, depth)
      return
    default:
      throw new CodecError(`a ${typeof value} cannot be cached`)
  }
}

function writeNumber(value: number): void {
  ensure(9)
  // -0 is not an integer to MessagePack: it goes as a float64, which keeps its sign.
  if (Number.isInteger(value) && value >= -0x80000000 && value <= 0xffffffff && (value !== 0 || 1 / value > 0)) {
    if (value >= 0) {
      if (value < 0x80) buf[pos++] = value
      else if (value <= 0xff) {
        buf[pos++] = 0xcc
        buf[pos++] = value
      } else if (value <= 0xffff) {
        buf[pos++] = 0xcd
        buf.writeUInt16BE(value, pos)
        pos += 2
      } else {
        buf[pos++] = 0xce
        buf.writeUInt32BE(value, pos)
        pos += 4
      }
    } else if (value >= -0x20) buf[pos++] = value & 0xff
    else if (value >= -0x80) {
      buf[pos++] = 0xd0
      buf.writeInt8(value, pos++)
    } else if (value >= -0x8000) {
      buf[pos++] = 0xd1
      buf.writeInt16BE(value, pos)
      pos += 2
    } else {
      buf[pos++] = 0xd2
      buf.writeInt32BE(value, pos)
      pos += 4
    }
    return
  }
  buf[pos++] = 0xcb
  buf.writeDoubleBE(value, pos)
  pos += 8
}

function writeString(value: string): void {
  const length = value.length
  if (length < 32) {
    // Short ASCII text (field names, most values) is written without measuring it first.
    ensure(1 + length)
    const start = pos + 1
    let i = 0
    for (; i < length; i++) {
      const code = value.charCodeAt(i)
      if (code >= 0x80) break
      buf[start + i] = code
    }
    if (i === length) {
      buf[pos] = 0xa0 | length
      pos = start + length
      return
    }
  }
  const size = Buffer.byteLength(value, 'utf8')
  ensure(5 + size)
  if (size < 32) buf[pos++] = 0xa0 | size
  else if (size <= 0xff) {
    buf[pos++] = 0xd9
    buf[pos++] = size
  } else if (size <= 0xffff) {
    buf[pos++] = 0xda
    buf.writeUInt16BE(size, pos)
    pos += 2
  } else {
    buf[pos++] = 0xdb
    buf.writeUInt32BE(size, pos)
    pos += 4
  }
  pos += buf.write(value, pos, size, 'utf8')
}

function writeObject(value: object, depth: number): void {
  if (depth >= MAX_DEPTH) throw new CodecError(`a value nested deeper than ${MAX_DEPTH} levels (or a cycle)`)
  if (Array.isArray(value)) {
    const keys = value.length > 1 ? sharedKeys(value) : undefined
    if (keys !== undefined) {
      writeTable(value, keys, depth)
      return
    }
    header(value.length, 0x90, 0xdc)
    for (let i = 0; i < value.length; i++) write(value[i], depth + 1)
    return
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    const keys = Object.keys(value)
    header(keys.length, 0x80, 0xde)
    for (const key of keys) {
      writeString(key)
      write((value as Record<string, unknown>)[key], depth + 1)
    }
    return
  }
  if (value instanceof Date) {
    ensure(10)
    buf[pos++] = 0xd7
    buf[pos++] = EXT_DATE
    buf.writeDoubleBE(value.getTime(), pos)
    pos += 8
    return
  }
  if (value instanceof Uint8Array) {
    const size = value.byteLength
    ensure(5 + size)
    if (size <= 0xff) {
      buf[pos++] = 0xc4
      buf[pos++] = size
    } else if (size <= 0xffff) {
      buf[pos++] = 0xc5
      buf.writeUInt16BE(size, pos)
      pos += 2
    } else {
      buf[pos++] = 0xc6
      buf.writeUInt32BE(size, pos)
      pos += 4
    }
    buf.set(value, pos)
    pos += size
    return
  }
  if (Decimal.isDecimal(value)) {
    const text = value.toString()
    ensure(6 + text.length)
    extHeader(text.length)
    buf[pos++] = EXT_DECIMAL
    pos += buf.write(text, pos, 'latin1')
    return
  }
  throw new CodecError(`a ${proto?.constructor?.name ?? 'value'} is not a value Prisma returns; it cannot be cached`)
}

function extHeader(size: number): void {
  if (size <= 0xff) {
    buf[pos++] = 0xc7
    buf[pos++] = size
  } else if (size <= 0xffff) {
    buf[pos++] = 0xc8
    buf.writeUInt16BE(size, pos)
    pos += 2
  } else {
    buf[pos++] = 0xc9
    buf.writeUInt32BE(size, pos)
    pos += 4
  }
}

/** The keys every item of `rows` has, in the same order, if all are plain objects with at least one key. */
function sharedKeys(rows: unknown[]): string[] | undefined {
  const first = rows[0]
  if (!isPlainObject(first)) return undefined
  const keys = Object.keys(first)
  if (keys.length === 0) return undefined
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i]
    if (!isPlainObject(row)) return undefined
    const own = Object.keys(row)
    if (own.length !== keys.length) return undefined
    for (let j = 0; j < keys.length; j++) if (own[j] !== keys[j]) return undefined
  }
  return keys
}

/**
 * Rows of one shape (a `findMany`) as a table: the keys once, then the values row after row, so reading it does
 * not decode every field name again. It refers to nothing outside itself.
 */
function writeTable(rows: unknown[], keys: string[], depth: number): void {
  if (depth + 1 >= MAX_DEPTH) throw new CodecError(`a value nested deeper than ${MAX_DEPTH} levels (or a cycle)`)
  ensure(1)
  buf[pos++] = TABLE
  header(keys.length, 0x90, 0xdc)
  for (const key of keys) writeString(key)
  header(rows.length, 0x90, 0xdc)
  for (const row of rows) {
    for (const key of keys) write((row as Record<string, unknown>)[key], depth + 2)
  }
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** An array or map header: fix form up to 15 items, else the 16- or 32-bit form (`wide` is the 16-bit code). */
function header(count: number, fix: number, wide: number): void {
  ensure(5)
  if (count < 16) buf[pos++] = fix | count
  else if (count <= 0xffff) {
    buf[pos++] = wide
    buf.writeUInt16BE(count, pos)
    pos += 2
  } else {
    buf[pos++] = wide + 1
    buf.writeUInt32BE(count, pos)
    pos += 4
  }
}
