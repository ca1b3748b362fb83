/**
 * Walks MessagePack bytes without building anything, and throws `CodecError` unless they hold only what Strata
 * writes: nil, booleans, integers up to 32 bits, int64 (BigInt), float64, UTF-8 strings, binary, arrays, maps with
 * string keys, msgpackr's records defined in the value itself, `undefined` and the Date and Decimal tags of
 * value-extensions.ts. Every count and length is checked against the bytes left, nesting is bounded by `MAX_DEPTH`,
 * and nothing may follow the value. msgpackr's references, Set, RegExp, Error, timestamps and typed arrays are
 * other extension forms: bytes that pass are safe to hand to msgpackr, and what it builds from them grows with
 * their size, never more (each string, array, object and value of it takes one of their bytes at least).
 *
 * Records are read as msgpackr reads them: a byte 0x40-0x7f is an object of the record of that id when the value
 * has defined one before it (the latest definition of the id), and otherwise the integer it is; each value
 * starts with no record defined.
 */
import { isUtf8 } from 'node:buffer'
import { CodecError } from '../errors'
import { EXT_DATE, EXT_DECIMAL, EXT_RECORD, EXT_UNDEFINED, MAX_DEPTH } from './value-extensions'

const EMPTY = new Uint8Array(0)
let src: Uint8Array = EMPTY
let pos = 0
let end = 0
let protoKey = false
/** Whether the value has defined a record. */
let defined = false
/**
 * The key count of each record id (0x40 + index) the value has defined so far; -1: none. Reset after a value that
 * defined any, so a value of maps pays nothing for it.
 */
const records = new Int32Array(64).fill(-1)

/** Checks `bytes`; returns whether a map has a `__proto__` key (which needs the slow path to stay an own key). */
export function scanValue(bytes: Uint8Array): boolean {
  src = bytes
  pos = 0
  end = bytes.length
  protoKey = false
  defined = false
  try {
    item(0)
    if (pos !== end) fail(`${end - pos} bytes after the value`)
    // Strata writes a value with a `__proto__` key in maps: it is read as maps, then objects (codec.ts), which would
    // leave a map inside a record a Map.
    if (protoKey && defined) fail('a value with records and a __proto__ key')
    return protoKey
  } finally {
    src = EMPTY // do not keep the frame alive
    if (defined) records.fill(-1)
  }
}

function fail(message: string): never {
  throw new CodecError(message)
}

/** Claims `bytes` bytes, or fails: a length never points past the end. */
function take(bytes: number): number {
  const at = pos
  if (bytes > end - at) fail('truncated value')
  pos = at + bytes
  return at
}

const u8 = (): number => src[take(1)] as number
function u16(): number {
  const at = take(2)
  return ((src[at] as number) << 8) | (src[at + 1] as number)
}
function u32(): number {
  const at = take(4)
  const high = (src[at] as number) * 0x1000000
  return high + (((src[at + 1] as number) << 16) | ((src[at + 2] as number) << 8) | (src[at + 3] as number))
}

function item(depth: number): void {
  if (pos >= end) fail('truncated value')
  const token = src[pos++] as number
  if (token < 0x40 || token >= 0xe0) return // fixint
  if (token < 0x80) {
    const count = records[token - 0x40] as number
    if (count >= 0) values(count, depth) // a record: its values, in the order of its keys
    return // else a fixint
  }
  if (token >= 0xa0 && token < 0xc0) text(token & 0x1f)
  else if (token < 0x90) map(token & 0x0f, depth)
  else if (token < 0xa0) values(token & 0x0f, depth)
  else if (token === 0xc0 || token === 0xc2 || token === 0xc3)
    return // nil, false, true
  else if (token === 0xcc || token === 0xd0)
    take(1) // 8-bit integers
  else if (token === 0xcd || token === 0xd1) take(2)
  else if (token === 0xce || token === 0xd2) take(4)
  else if (token === 0xcb || token === 0xd3)
    take(8) // float64; int64, a BigInt
  else if (token === 0xd9) text(u8())
  else if (token === 0xda) text(u16())
  else if (token === 0xdb) text(u32())
  else if (token === 0xc4)
    take(u8()) // binary
  else if (token === 0xc5) take(u16())
  else if (token === 0xc6) take(u32())
  else if (token === 0xdc) values(u16(), depth)
  else if (token === 0xdd) values(u32(), depth)
  else if (token === 0xde) map(u16(), depth)
  else if (token === 0xdf) map(u32(), depth)
  else if (token === 0xd4) tagged(depth)
  else fail(`byte 0x${token.toString(16)} is not in Strata's encoding`)
}

function text(length: number): void {
  const at = pos
  const stop = at + length
  if (stop > end) fail('truncated value')
  pos = stop
  // Text is mostly ASCII (field names, most values): one pass ORing the bytes finds out, without a call.
  const bytes = src
  let bits = 0
  for (let i = at; i < stop; i++) bits |= bytes[i] as number
  if (bits >= 0x80 && !isUtf8(bytes.subarray(at, stop))) fail('a string that is not UTF-8')
}

/**
 * `count` values one level below `depth`: an array's items, a record's values. Every value takes a byte at least: a
 * count the bytes left cannot hold is a lie, refused before any allocation.
 */
function values(count: number, depth: number): void {
  if (depth >= MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`)
  if (count > end - pos) fail('truncated value')
  for (let i = 0; i < count; i++) item(depth + 1)
}

/**
 * A record's definition (after its fixext 1 head): its id, its keys (an array of strings, never `__proto__`, which
 * msgpackr renames), then the values of its first object. msgpackr's two-byte record ids are not Strata's (fixext 2
 * is refused).
 */
function recordDefinition(id: number, depth: number): void {
  if (id < 0x40 || id >= 0x80) fail(`record id 0x${id.toString(16)} is not in Strata's encoding`)
  const token = src[take(1)] as number
  let count: number
  if (token >= 0x90 && token < 0xa0) count = token & 0x0f
  else if (token === 0xdc) count = u16()
  else if (token === 0xdd) count = u32()
  else fail('a record whose keys are not an array')
  if (count > end - pos) fail('truncated value')
  for (let i = 0; i < count; i++) if (key()) fail('a record with a __proto__ key')
  records[id - 0x40] = count
  defined = true
  values(count, depth)
}

function map(count: number, depth: number): void {
  if (depth >= MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`)
  if (count * 2 > end - pos) fail('truncated value')
  for (let i = 0; i < count; i++) {
    key()
    item(depth + 1)
  }
}

/**
 * A map's or a record's key: a string, nothing else (msgpackr would turn any other key into text). Whether it is
 * `__proto__`.
 */
function key(): boolean {
  const token = src[pos++] as number
  let length: number
  if (token >= 0xa0 && token < 0xc0) length = token & 0x1f
  else if (token === 0xd9) length = u8()
  else if (token === 0xda) length = u16()
  else if (token === 0xdb) length = u32()
  else fail('a key that is not a string')
  const proto = length === 9 && isProto(pos)
  if (proto) protoKey = true
  text(length)
  return proto
}

// '__proto__' as bytes
const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]

function isProto(at: number): boolean {
  if (at + 9 > end) return false
  for (let i = 0; i < 9; i++) if (src[at + i] !== PROTO[i]) return false
  return true
}

/** A fixext 1: a record's definition, `undefined`, or a Date or Decimal tag and the one value it holds. */
function tagged(depth: number): void {
  const at = take(2)
  const type = src[at] as number
  if (type === EXT_RECORD) {
    recordDefinition(src[at + 1] as number, depth)
    return
  }
  if (src[at + 1] === 0) {
    if (type === EXT_UNDEFINED) return
    const next = src[pos] as number
    if (type === EXT_DATE && next === 0xcb && pos < end) {
      take(9)
      return
    }
    if (type === EXT_DECIMAL && pos < end && ((next >= 0xa0 && next < 0xc0) || next === 0xd9 || next === 0xda)) {
      item(0) // its text, checked as a number when it is read
      return
    }
  }
  fail(`extension type 0x${type.toString(16)} is not in Strata's encoding, or not in its form`)
}
