/**
 * Walks MessagePack bytes without building anything, and throws `CodecError` unless they hold only what Strata
 * writes: nil, booleans, integers up to 32 bits, int64 (BigInt), float64, UTF-8 strings, binary, arrays, maps with
 * string keys, `undefined` and the Date and Decimal tags of value-extensions.ts. Every count and length is checked
 * against the bytes left, nesting is bounded by `MAX_DEPTH`, and nothing may follow the value. msgpackr's
 * references, records, Set, RegExp, Error, timestamps and typed arrays are other extension forms: bytes that pass
 * are safe to hand to msgpackr, and what it builds from them is never larger than they are.
 */
import { isUtf8 } from 'node:buffer'
import { CodecError } from '../errors'
import { EXT_DATE, EXT_DECIMAL, EXT_UNDEFINED, MAX_DEPTH } from './value-extensions'

const EMPTY = new Uint8Array(0)
let src: Uint8Array = EMPTY
let pos = 0
let end = 0
let protoKey = false

/** Checks `bytes`; returns whether a map has a `__proto__` key (which needs the slow path to stay an own key). */
export function scanValue(bytes: Uint8Array): boolean {
  src = bytes
  pos = 0
  end = bytes.length
  protoKey = false
  try {
    item(0)
    if (pos !== end) fail(`${end - pos} bytes after the value`)
    return protoKey
  } finally {
    src = EMPTY // do not keep the frame alive
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
  if (token < 0x80 || token >= 0xe0) return // fixint
  if (token >= 0xa0 && token < 0xc0) text(token & 0x1f)
  else if (token < 0x90) map(token & 0x0f, depth)
  else if (token < 0xa0) array(token & 0x0f, depth)
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
  else if (token === 0xdc) array(u16(), depth)
  else if (token === 0xdd) array(u32(), depth)
  else if (token === 0xde) map(u16(), depth)
  else if (token === 0xdf) map(u32(), depth)
  else if (token === 0xd4) tagged()
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

function array(count: number, depth: number): void {
  if (depth >= MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`)
  // Every item takes a byte at least: a count the bytes left cannot hold is a lie, refused before any allocation.
  if (count > end - pos) fail('truncated value')
  for (let i = 0; i < count; i++) item(depth + 1)
}

function map(count: number, depth: number): void {
  if (depth >= MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`)
  if (count * 2 > end - pos) fail('truncated value')
  for (let i = 0; i < count; i++) {
    key()
    item(depth + 1)
  }
}

/** A map key: a string, nothing else (msgpackr would turn any other key into text). */
function key(): void {
  const token = src[pos++] as number
  let length: number
  if (token >= 0xa0 && token < 0xc0) length = token & 0x1f
  else if (token === 0xd9) length = u8()
  else if (token === 0xda) length = u16()
  else if (token === 0xdb) length = u32()
  else fail('a key that is not a string')
  if (length === 9 && isProto(pos)) protoKey = true
  text(length)
}

// '__proto__' as bytes
const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]

function isProto(at: number): boolean {
  if (at + 9 > end) return false
  for (let i = 0; i < 9; i++) if (src[at + i] !== PROTO[i]) return false
  return true
}

/** A fixext 1 "tag": `undefined`, or a Date or Decimal tag and the one value it holds. */
function tagged(): void {
  const at = take(2)
  const type = src[at] as number
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
