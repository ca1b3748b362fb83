/**
 * Reads back exactly what value-encoder.ts writes, and nothing else: bytes under our keys may have been written by
 * anyone with access to Redis. Every other MessagePack form (references, records, float32, 64-bit numbers, other
 * extension types), non-string map keys, nesting deeper than `MAX_DEPTH`, a count larger than the bytes left,
 * malformed UTF-8 or decimal text, and trailing bytes throw `CodecError`. With no references, the work and memory
 * a decode takes grow with the frame's size, which the caller has bounded.
 */
import { Decimal } from '@prisma/client/runtime/client'
import { CodecError } from '../errors'
import { EXT_DATE, EXT_DECIMAL, EXT_UNDEFINED, MAX_DEPTH, TABLE } from './value-encoder'

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const DECIMAL_TEXT = /^(?:-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|-?Infinity|NaN)$/i

const EMPTY = Buffer.alloc(0)
let src: Buffer = EMPTY
let pos = 0
let end = 0

/** Decodes one value that fills `bytes` exactly. */
export function decode(bytes: Uint8Array): unknown {
  src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  pos = 0
  end = src.length
  try {
    const value = read(0)
    if (pos !== end) throw new CodecError(`${end - pos} bytes after the value`)
    return value
  } finally {
    src = EMPTY // do not keep the frame alive
  }
}

function fail(message: string): never {
  throw new CodecError(message)
}

/** Claims `bytes` bytes from the input, or fails: a length can never point past the end. */
function take(bytes: number): number {
  const at = pos
  if (bytes > end - at) fail('truncated value')
  pos = at + bytes
  return at
}

function read(depth: number): unknown {
  const at = take(1)
  const token = src[at] as number
  if (token < 0x80) return token
  if (token >= 0xe0) return token - 0x100
  if (token >= 0xa0 && token < 0xc0) return readString(token & 0x1f)
  if (token < 0x90) return readMap(token & 0x0f, depth)
  if (token < 0xa0) return readArray(token & 0x0f, depth)
  switch (token) {
    case 0xc0:
      return null
    case 0xc2:
      return false
    case 0xc3:
      return true
    case TABLE:
      return readTable(depth)
    case 0xc4:
      return readBytes(src[take(1)] as number)
    case 0xc5:
      return readBytes(src.readUInt16BE(take(2)))
    case 0xc6:
      return readBytes(src.readUInt32BE(take(4)))
    case 0xc7:
      return readExt(src[take(1)] as number)
    case 0xc8:
      return readExt(src.readUInt16BE(take(2)))
    case 0xc9:
      return readExt(src.readUInt32BE(take(4)))
    case 0xcb:
      return src.readDoubleBE(take(8))
    case 0xcc:
      return src[take(1)]
    case 0xcd:
      return src.readUInt16BE(take(2))
    case 0xce:
      return src.readUInt32BE(take(4))
    case 0xd0:
      return src.readInt8(take(1))
    case 0xd1:
      return src.readInt16BE(take(2))
    case 0xd2:
      return src.readInt32BE(take(4))
    case 0xd3:
      return src.readBigInt64BE(take(8))
    case 0xd4:
      return readExt(1)
    case 0xd7:
      return readExt(8)
    case 0xd9:
      return readString(src[take(1)] as number)
    case 0xda:
      return readString(src.readUInt16BE(take(2)))
    case 0xdb:
      return readString(src.readUInt32BE(take(4)))
    case 0xdc:
      return readArray(src.readUInt16BE(take(2)), depth)
    case 0xdd:
      return readArray(src.readUInt32BE(take(4)), depth)
    case 0xde:
      return readMap(src.readUInt16BE(take(2)), depth)
    case 0xdf:
      return readMap(src.readUInt32BE(take(4)), depth)
    default:
      return fail(`byte 0x${token.toString(16)} is not in Strata's encoding`)
  }
}

function readString(length: number): string {
  return text(take(length), length)
}

function text(at: number, length: number): string {
  if (length < 64) {
    // ASCII (field names, most values) needs no UTF-8 decoder.
    for (let i = at; i < at + length; i++) if ((src[i] as number) >= 0x80) return readUtf8(at, length)
    return (src as LatinBuffer).latin1Slice(at, at + length)
  }
  return readUtf8(at, length)
}

/** Node's Buffer method behind `toString('latin1', start, end)`, without its argument handling. */
type LatinBuffer = Buffer & { latin1Slice(start: number, end: number): string }

/** A map or table key: a string, nothing else. */
function readKey(): string {
  const token = src[take(1)] as number
  let length: number
  if (token >= 0xa0 && token < 0xc0) length = token & 0x1f
  else if (token === 0xd9) length = src[take(1)] as number
  else if (token === 0xda) length = src.readUInt16BE(take(2))
  else if (token === 0xdb) length = src.readUInt32BE(take(4))
  else return fail('a key that is not a string')
  const at = take(length)
  return length <= MAX_CACHED_KEY ? cachedKey(at, length) : text(at, length)
}

// Field names repeat in every row: one string per name is reused (a bounded table, replaced on collision).
const MAX_CACHED_KEY = 32
const KEY_SLOTS = 4096
const keyBytes: Array<Uint8Array | undefined> = new Array(KEY_SLOTS)
const keyTexts: string[] = new Array(KEY_SLOTS)

function cachedKey(at: number, length: number): string {
  let hash = length
  for (let i = at; i < at + length; i++) hash = (hash * 31 + (src[i] as number)) | 0
  const slot = hash & (KEY_SLOTS - 1)
  const known = keyBytes[slot]
  if (known !== undefined && known.length === length) {
    let i = 0
    while (i < length && known[i] === src[at + i]) i++
    if (i === length) return keyTexts[slot] as string
  }
  const key = text(at, length)
  keyBytes[slot] = new Uint8Array(src.subarray(at, at + length))
  keyTexts[slot] = key
  return key
}

function readUtf8(at: number, length: number): string {
  try {
    return utf8.decode(src.subarray(at, at + length))
  } catch (error) {
    throw new CodecError('a string that is not UTF-8', error)
  }
}

function readBytes(length: number): Uint8Array {
  const at = take(length)
  // A copy that owns its memory: neither the frame nor Buffer's pool stays reachable through a result.
  return new Uint8Array(src.subarray(at, at + length))
}

function readArray(count: number, depth: number): unknown[] {
  if (depth >= MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`)
  // Every item takes a byte at least: a count the bytes left cannot hold is a lie, refused before allocating.
  if (count > end - pos) fail('truncated value')
  const out = new Array(count)
  for (let i = 0; i < count; i++) out[i] = read(depth + 1)
  return out
}

function readMap(count: number, depth: number): Record<string, unknown> {
  if (depth >= MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`)
  if (count * 2 > end - pos) fail('truncated value')
  const out: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) {
    const key = readKey()
    const value = read(depth + 1)
    if (key === '__proto__') ownProto(out, value)
    else out[key] = value
  }
  return out
}

function readTable(depth: number): Record<string, unknown>[] {
  if (depth + 1 >= MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`)
  const keys = readCount()
  if (keys === 0 || keys > end - pos) fail('a table without keys, or truncated')
  const names: string[] = new Array(keys)
  let proto = false
  for (let i = 0; i < keys; i++) {
    const name = readKey()
    names[i] = name
    proto ||= name === '__proto__'
  }
  const count = readCount()
  // Every value takes a byte at least, and there is at least one per row: the bytes left bound the rows.
  if (count * keys > end - pos) fail('truncated value')
  const rows: Record<string, unknown>[] = new Array(count)
  for (let r = 0; r < count; r++) {
    const row: Record<string, unknown> = {}
    for (let i = 0; i < keys; i++) {
      const value = read(depth + 2)
      const name = names[i] as string
      if (proto && name === '__proto__') ownProto(row, value)
      else row[name] = value
    }
    rows[r] = row
  }
  return rows
}

/** The count of an array header (a table's key and row counts are written as array headers). */
function readCount(): number {
  const token = src[take(1)] as number
  if (token >= 0x90 && token < 0xa0) return token & 0x0f
  if (token === 0xdc) return src.readUInt16BE(take(2))
  if (token === 0xdd) return src.readUInt32BE(take(4))
  return fail('a table without its counts')
}

/** Assigning `__proto__` would set the prototype: in JSON it is an own property, and so it stays here. */
function ownProto(target: Record<string, unknown>, value: unknown): void {
  Object.defineProperty(target, '__proto__', { value, writable: true, enumerable: true, configurable: true })
}

function readExt(length: number): unknown {
  const type = src[take(1)] as number
  const at = take(length)
  if (type === EXT_DATE && length === 8) return new Date(src.readDoubleBE(at))
  if (type === EXT_DECIMAL) {
    const text = src.toString('latin1', at, at + length)
    if (!DECIMAL_TEXT.test(text)) fail('a decimal that is not a number')
    return new Decimal(text)
  }
  if (type === EXT_UNDEFINED && length === 1 && src[at] === 0) return undefined
  return fail(`extension type 0x${type.toString(16)} (length ${length}) is not in Strata's encoding`)
}
