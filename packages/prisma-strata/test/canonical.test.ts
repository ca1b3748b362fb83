import { Decimal } from '@prisma/client/runtime/client'
import { describe, expect, it } from 'vitest'
import { canonical } from '../src/read/canonical'

describe('canonical query text', () => {
  it('ignores key order and undefined arguments', () => {
    expect(canonical({ where: { a: 1, b: 'x' }, take: 2 })).toBe(canonical({ take: 2, where: { b: 'x', a: 1 } }))
    expect(canonical({ where: { a: 1, b: undefined } })).toBe(canonical({ where: { a: 1 } }))
  })

  it('orders keys by UTF-16 code units, as the built-in sort does, for 0 to 20 keys in random orders', () => {
    // Keys sort without Array.prototype.sort up to 16 of them: the text must be that of sorted keys all the same.
    const pool = [
      'b',
      'a',
      'B',
      'A',
      '_x',
      'a1',
      'a10',
      'a2',
      'é',
      'e\u0301',
      '😀',
      '\uffff',
      'z',
      'Z',
      '0',
      '10',
      'aa',
      'ab',
    ]
    const sortedText = (keys: string[]) =>
      `{${[...keys]
        .sort()
        .map((k) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : JSON.stringify(k)}:1`)
        .join(',')}}`
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    for (let count = 0; count <= 20; count++) {
      for (let round = 0; round < 20; round++) {
        const keys = [...pool, 'c', 'd', 'k'].sort(() => random() - 0.5).slice(0, count)
        const value = Object.fromEntries(keys.map((k) => [k, 1]))
        expect(canonical(value)).toBe(sortedText(Object.keys(value)))
      }
    }
  })

  it('keeps the order of orderBy keys, which Prisma reads in order', () => {
    expect(canonical({ orderBy: { a: 'asc', b: 'desc' } })).not.toBe(canonical({ orderBy: { b: 'desc', a: 'asc' } }))
  })

  it('keeps values of different types apart', () => {
    const values = [
      1,
      '1',
      1n,
      true,
      'true',
      null,
      'null',
      new Date(1),
      new Decimal('1'),
      new Uint8Array([1]),
      [1],
      { 1: 1 },
    ]
    const texts = values.map((v) => canonical({ where: { x: v } }))
    expect(new Set(texts).size).toBe(values.length)
  })

  it('distinguishes every argument that changes the answer', () => {
    const base = { where: { id: 1 } }
    const variants = [
      base,
      { ...base, select: { id: true } },
      { ...base, include: { posts: true } },
      { ...base, omit: { email: true } },
      { ...base, take: 1 },
      { ...base, skip: 1 },
      { ...base, cursor: { id: 1 } },
      { ...base, distinct: ['email'] },
      { ...base, relationLoadStrategy: 'join' },
    ]
    expect(new Set(variants.map((v) => canonical(v))).size).toBe(variants.length)
  })

  it("keeps the key order of select and include (the order of the result's fields), not of nested arguments", () => {
    expect(canonical({ select: { id: true, title: true } })).not.toBe(canonical({ select: { title: true, id: true } }))
    expect(canonical({ include: { posts: true, _count: true } })).not.toBe(
      canonical({ include: { _count: true, posts: true } }),
    )
    const nested = (where: object) => canonical({ select: { posts: { where, select: { id: true } } } })
    expect(nested({ a: 1, b: 2 })).toBe(nested({ b: 2, a: 1 }))
  })

  it('keeps the key order of Json filter values, which SQLite compares as text', () => {
    const a = canonical({ where: { prefs: { equals: { a: 1, b: 2 } } } })
    const b = canonical({ where: { prefs: { equals: { b: 2, a: 1 } } } })
    expect(a).not.toBe(b)
  })

  it('reads equal decimals as equal whatever their notation', () => {
    expect(canonical(new Decimal('1.50'))).toBe(canonical(new Decimal('1.5')))
  })

  it('does not confuse a string that looks like an encoded value with that value', () => {
    expect(canonical({ a: 'D1' })).not.toBe(canonical({ a: new Date(1) }))
    expect(canonical({ a: '1n' })).not.toBe(canonical({ a: 1n }))
  })
})
