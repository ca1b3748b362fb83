/**
 * The types Prisma returns that MessagePack lacks, as msgpackr extensions: Date (its float64 milliseconds under
 * our own type, not MessagePack's timestamp, which any msgpackr user writes) and Decimal (its text). -0 is a float64,
 * which keeps its sign (msgpackr would write the integer 0). msgpackr's extension table is global to the process:
 * only our own `Written` class is registered for packing, so other msgpackr users' Dates and Decimals are untouched.
 */
import { Decimal } from '@prisma/client/runtime/client'
import { addExtension } from 'msgpackr'

/** Deepest nesting of arrays and objects a value may have, on both sides. */
export const MAX_DEPTH = 100
export const EXT_DATE = 0x54 // 'T'
export const EXT_DECIMAL = 0x44 // 'D'
/** msgpackr's `undefined` (fixext 1, type 0, data 0), for `$cache.wrap` values. */
export const EXT_UNDEFINED = 0
/** msgpackr's record definition: fixext 1 of this type, the record's id (0x40-0x7f), then its keys (codec.ts). */
export const EXT_RECORD = 0x72 // 'r'

type Allocate = (size: number) => { target: Uint8Array; targetView: DataView; position: number }

/**
 * A value that writes its own bytes: what `prepare` puts in place of a Date, a Decimal or -0. Dates and Decimals
 * are msgpackr's "tag" form (fixext 1 of their type, then one plain value: a float64 or the decimal's text), which
 * msgpackr reads without copying the payload out first.
 */
export abstract class Written {
  abstract write(allocate: Allocate): void
}

export class WrittenDate extends Written {
  constructor(private readonly time: number) {
    super()
  }
  write(allocate: Allocate): void {
    const { target, targetView, position } = allocate(12)
    tag(target, position, EXT_DATE)
    target[position + 3] = 0xcb
    targetView.setFloat64(position + 4, this.time)
  }
}

export class WrittenDecimal extends Written {
  constructor(private readonly text: string) {
    super()
  }
  write(allocate: Allocate): void {
    const size = this.text.length
    const head = size < 32 ? 1 : size <= 0xff ? 2 : 3
    const { target, position } = allocate(3 + head + size)
    tag(target, position, EXT_DECIMAL)
    let at = position + 3
    if (head === 1) target[at++] = 0xa0 | size
    else if (head === 2) {
      target[at++] = 0xd9
      target[at++] = size
    } else if (size <= 0xffff) {
      target[at++] = 0xda
      target[at++] = size >> 8
      target[at++] = size & 0xff
    } else throw new RangeError('a decimal of more than 65,535 characters')
    // A decimal's text is ASCII: one byte per character.
    for (let i = 0; i < size; i++) target[at + i] = this.text.charCodeAt(i)
  }
}

function tag(target: Uint8Array, at: number, type: number): void {
  target[at] = 0xd4
  target[at + 1] = type
  target[at + 2] = 0
}

class WrittenNegativeZero extends Written {
  write(allocate: Allocate): void {
    const { target, targetView, position } = allocate(9)
    target[position] = 0xcb
    targetView.setFloat64(position + 1, -0)
  }
}
export const NEGATIVE_ZERO = new WrittenNegativeZero()

const DECIMAL_TEXT = /^(?:-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|-?Infinity|NaN)$/i

/**
 * Decimals recently read, by text. Parsing one costs more than the rest of a row's decoding, and a cache reads the
 * same values again and again; Decimals are immutable (every operation returns a new one), so results share them,
 * as copies of a local entry already do (copy.ts). Short texts only, and when full it starts over: bounded.
 */
const decimals = new Map<string, InstanceType<typeof Decimal>>()
const MAX_DECIMALS = 1024
const MAX_DECIMAL_TEXT = 64

// The scan has checked that a Date tag is followed by a float64 and a Decimal tag by a string.
function readDecimal(text: string): InstanceType<typeof Decimal> {
  const known = decimals.get(text)
  if (known !== undefined) return known
  if (!DECIMAL_TEXT.test(text)) throw new Error('a decimal that is not a number')
  const decimal = new Decimal(text)
  if (text.length <= MAX_DECIMAL_TEXT) {
    if (decimals.size >= MAX_DECIMALS) decimals.clear()
    decimals.set(text, decimal)
  }
  return decimal
}

addExtension({
  Class: Written,
  type: EXT_DATE,
  pack: (value: Written, allocate: Allocate) => value.write(allocate),
  read: (time: number) => new Date(time),
} as never)
addExtension({ type: EXT_DECIMAL, read: readDecimal } as never)
