import { Decimal } from '@prisma/client/runtime/client'
import { describe, expect, it } from 'vitest'
import { CodecError } from '../src/errors'
import { decodeEntry, decodeValue, encodeEntry, encodeValue, FORMAT_VERSION } from '../src/store/codec'

const row = {
  id: 1,
  big: 9007199254740993n,
  neg: -42n,
  balance: new Decimal('12345678901234567890.123456789'),
  at: new Date('2026-01-02T03:04:05.678Z'),
  bytes: new Uint8Array([0, 1, 255]),
  json: { a: [1, 'two', null, { b: true }], n: 1.5 },
  role: 'ADMIN',
  nothing: null,
  list: [{ id: 2, title: 'x' }],
}

describe('codec', () => {
  it('round-trips every Prisma value type exactly', () => {
    const back = decodeValue(encodeValue(row)) as typeof row
    expect(back).toEqual(row)
    expect(back.balance).toBeInstanceOf(Decimal)
    expect(back.balance.toString()).toBe(row.balance.toString())
    expect(typeof back.big).toBe('bigint')
    expect(back.bytes.constructor).toBe(Uint8Array)
    expect(back.at).toBeInstanceOf(Date)
  })

  it('hands out copies: mutating a decoded value does not change the bytes', () => {
    const bytes = encodeValue(row)
    const first = decodeValue(bytes) as typeof row
    first.bytes[0] = 99
    first.json.a.push('mutated')
    expect(decodeValue(bytes)).toEqual(row)
  })

  it('frames entries with their query, versions and format', () => {
    const entry = {
      query: 'q',
      deps: ['m:User'],
      versions: [1764000000000001],
      freshUntil: 3,
      staleUntil: 4,
      expiresAt: 5,
      value: encodeValue(row),
    }
    const back = decodeEntry(encodeEntry(entry))
    expect(back).toEqual(entry)
    expect(encodeEntry(entry)[1]).toBe(FORMAT_VERSION)
  })

  it('reads foreign, truncated and other-format bytes as CodecError, never as a value', () => {
    const frame = encodeEntry({
      query: 'q',
      deps: [],
      versions: [],
      freshUntil: 1,
      staleUntil: 1,
      expiresAt: 1,
      value: encodeValue(row),
    })
    const otherFormat = Buffer.from(frame)
    otherFormat[1] = FORMAT_VERSION + 1
    for (const bad of [
      Buffer.from('hello world'),
      Buffer.from([]),
      frame.subarray(0, frame.length - 3),
      otherFormat,
      Buffer.concat([frame.subarray(0, 2), Buffer.from([0xc1, 0xc1])]),
    ]) {
      expect(() => decodeEntry(bad)).toThrow(CodecError)
    }
  })
})
