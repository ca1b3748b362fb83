import { Decimal } from '@prisma/client/runtime/client'
import { describe, expect, it } from 'vitest'
import { copyResult } from '../src/read/copy-result'

describe('copyResult', () => {
  it('keeps an own __proto__ key (Json) as an own property of an independent copy', () => {
    const row = { id: 1, prefs: JSON.parse('{"__proto__":{"isAdmin":true},"theme":"dark"}') }
    const copy = copyResult(row)
    expect(copy).toEqual(row)
    expect(Object.getPrototypeOf(copy.prefs)).toBe(Object.prototype)
    expect(Object.hasOwn(copy.prefs, '__proto__')).toBe(true)
    expect(copy.prefs.isAdmin).toBeUndefined()
    copy.prefs.__proto__.isAdmin = false // a caller mutating its copy
    expect(row.prefs.__proto__.isAdmin).toBe(true)
    expect(copyResult(row).prefs.__proto__.isAdmin).toBe(true)
  })

  it('keeps -0 and shares only immutable values', () => {
    const row = { score: -0, at: new Date(1), bytes: new Uint8Array([1]), balance: new Decimal('1.5') }
    const copy = copyResult(row)
    expect(Object.is(copy.score, -0)).toBe(true)
    expect(copy.at).not.toBe(row.at)
    expect(copy.bytes).not.toBe(row.bytes)
    expect(copy.balance).toBe(row.balance)
  })
})
