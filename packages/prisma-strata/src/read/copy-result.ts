/**
 * A deep copy of a Prisma result, for every local hit: a caller may mutate what it gets, so the local tier keeps a
 * master copy it never hands out. Written for the shapes Prisma returns (plain objects, arrays, Date, Uint8Array,
 * Decimal, bigint, strings, numbers, null): it allocates the copy without parsing the bytes again or going through
 * `structuredClone`. Decimal instances are immutable (every operation returns a new one), so hits share the
 * master's; the master itself (`detached`) shares nothing with the object the caller was given, not even its
 * Decimals, since it is encoded for Redis only after the caller has it.
 */
import { Decimal } from '@prisma/client/runtime/client'

export function copyResult<T>(value: T, detached = false): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    const out = new Array(value.length)
    for (let i = 0; i < value.length; i++) out[i] = copyResult(value[i], detached)
    return out as T
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {}
    for (const key in value) {
      const item = copyResult((value as Record<string, unknown>)[key], detached)
      // Json may hold an own `__proto__` key: assigning it would set the copy's prototype to a shared object.
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: item, writable: true, enumerable: true, configurable: true })
      else out[key] = item
    }
    return out as T
  }
  if (value instanceof Date) return new Date(value.getTime()) as T
  // A Buffer's `slice` is a view of the same memory: a `$cache.wrap` value may hold one.
  if (Buffer.isBuffer(value)) return Buffer.from(value) as T
  if (value instanceof Uint8Array) return value.slice() as T
  // Its own class: the app's client may load another copy of Prisma's runtime than Strata does.
  if (detached && Decimal.isDecimal(value)) return new (value.constructor as new (from: T) => T)(value)
  return value // Decimal and other immutable values
}
