/**
 * What a value held by the local tier costs in V8's heap, in bytes: the base of what `local.maxBytes` counts.
 * The sizes are V8's on 64-bit Node (8-byte fields, no pointer compression; with compression they are smaller, so
 * the estimate stays an upper bound), measured with `process.memoryUsage()` after a full GC
 * (test/local-tier-memory.test.ts checks the sum against the heap really held). The shapes are those `copyResult`
 * and the codec make: plain objects filled key by key, arrays of exact length, Dates, byte arrays, strings, numbers.
 */

/** A heap number: a non-integer (or large) number in an object field or an array of mixed values. */
const HEAP_NUMBER = 16
/** An object built from `{}`: header (map, properties, elements) and the 4 fields `{}` reserves in the object. */
const OBJECT = 56
/** Fields past those 4 go to a property array, grown 3 at a time (16 bytes of header). */
const PROPERTY_ARRAY = 16
/** From 20 fields on, an object filled key by key becomes a dictionary: 3 words a slot, slots a power of 2. */
const DICTIONARY_FROM = 20
const DICTIONARY_HEADER = 32
/** An array: header, and its elements (16 bytes of header, 8 a slot; none when empty). */
const ARRAY = 32
const ELEMENTS = 16
/** A Date: its fields (the time and the cached year, month, day...) and the time as a heap number. */
const DATE = 112
/** A Uint8Array (typed array and array buffer objects), besides its bytes. */
const BYTES = 208
const BIGINT = 16

const TWO_BYTE = /[\u0100-\uffff]/

/** A flat string: 16 bytes of header, then one byte a character (two if any is beyond Latin-1), 8-byte aligned. */
export function stringBytes(text: string): number {
  const chars = TWO_BYTE.test(text) ? text.length * 2 : text.length
  return 16 + align(chars)
}

/** A fresh array of `length` slots. */
export function arrayBytes(length: number): number {
  return ARRAY + (length === 0 ? 0 : ELEMENTS + 8 * length)
}

/** Everything `value` holds that nothing else does (strings and numbers it shares are counted too: an upper bound). */
export function heapBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value)
    case 'number':
      return (value | 0) === value && !Object.is(value, -0) ? 0 : HEAP_NUMBER
    case 'bigint':
      return BIGINT + 8 * Math.ceil(value.toString(16).replace('-', '').length / 16)
    case 'object':
      break
    default:
      return 0
  }
  if (value === null) return 0
  if (Array.isArray(value)) {
    let bytes = arrayBytes(value.length)
    for (const item of value) bytes += heapBytes(item)
    return bytes
  }
  if (value instanceof Date) return DATE
  if (value instanceof Uint8Array) return BYTES + align(value.byteLength)
  // Plain objects, and what is kept as it is (Decimal): their own fields.
  const keys = Object.keys(value)
  let bytes = objectBytes(keys.length)
  for (const key of keys) bytes += heapBytes((value as Record<string, unknown>)[key])
  return bytes
}

function objectBytes(fields: number): number {
  if (fields <= 4) return OBJECT
  if (fields < DICTIONARY_FROM) return OBJECT + PROPERTY_ARRAY + 24 * Math.ceil((fields - 4) / 3)
  return OBJECT + DICTIONARY_HEADER + 24 * 2 ** Math.ceil(Math.log2(fields * 1.5))
}

function align(bytes: number): number {
  return Math.ceil(bytes / 8) * 8
}
