/**
 * Whether a value decoded from Redis has the shape of what a read returns, checked before it is served: bytes
 * under our keys may have been written by anyone, and a string or a number must not answer a `findMany`.
 * The codec already admits only the types Prisma returns; this checks the top level against the operation.
 */

const isObject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype

const isRows = (value: unknown): boolean => Array.isArray(value) && value.every(isObject)

/** A record (or "no such row"): `findUnique`, `findFirst`, their `OrThrow` forms, and write-through rows. */
export const isRecord = (value: unknown): boolean => value === null || isObject(value)

export function fitsOperation(operation: string, value: unknown): boolean {
  switch (operation) {
    case 'findUnique':
    case 'findUniqueOrThrow':
    case 'findFirst':
    case 'findFirstOrThrow':
      return isRecord(value)
    case 'findMany':
    case 'groupBy':
      return isRows(value)
    case 'count':
      // `count()` is a number; `count({ select })` an object of numbers.
      return (Number.isSafeInteger(value) && (value as number) >= 0) || isObject(value)
    case 'aggregate':
      return isObject(value)
    case 'wrap':
      return true // a `$cache.wrap` loader may return any value the codec can hold
    default:
      return false
  }
}
