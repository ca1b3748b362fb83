import { Decimal } from '@prisma/client/runtime/client'
import { Packr } from 'msgpackr'
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

  it('reads the texts a reader expects in place, and every other text as it is in the frame', () => {
    const deps = ['m:User', 'p:Post:1', 't:x']
    const entry = { query: 'Post|findUnique|{where:{id:1}}', deps, versions: [1, 2, 3] }
    const times = { freshUntil: 3, staleUntil: 4, expiresAt: 5 }
    const frame = encodeEntry({ ...entry, ...times, value: encodeValue(row) })
    const expected = { query: 'Post|findUnique|{where:{id:1}}', deps: ['m:User', 'p:Post:1', 't:x'] }
    // Equal texts: the expected string and (all names equal) the expected array itself, nothing decoded.
    const same = decodeEntry(frame, expected)
    expect(same.query).toBe(expected.query)
    expect(same.deps).toBe(expected.deps)
    // One name differs (by a byte, by its length, or one is not ASCII): the frame's own names, the expected untouched.
    for (const other of [
      ['m:User', 'p:Post:2', 't:x'],
      ['m:User', 'p:Post:10', 't:x'],
      ['m:User', 'p:Post:1'],
      ['m:Usér', 'p:Post:1', 't:x'],
    ]) {
      const before = [...other]
      const back = decodeEntry(frame, { query: 'Post|findUnique|{where:{id:2}}', deps: other })
      expect(back.query).toBe(entry.query)
      expect(back.deps).toEqual(deps)
      expect(other).toEqual(before)
    }
    // Texts that are not ASCII are decoded, and read the same.
    const wide = { ...entry, query: 'Post|{title:"é"}', deps: ['m:User', 't:ü'], versions: [1, 2] }
    const back = decodeEntry(encodeEntry({ ...wide, ...times, value: encodeValue(1) }), wide)
    expect([back.query, back.deps]).toEqual([wide.query, wide.deps])
    const none = encodeEntry({ ...entry, deps: [], versions: [], ...times, value: encodeValue(1) })
    expect(decodeEntry(none).deps).toEqual([])
    expect(decodeEntry(none, expected).deps).toEqual([])
  })

  it('reads foreign, truncated and other-format bytes as CodecError, never as a value', () => {
    const frame = encodeEntry({
      query: 'q',
      deps: ['m:User'],
      versions: [1764000000000001],
      freshUntil: 1,
      staleUntil: 1,
      expiresAt: 1,
      value: encodeValue(row),
    })
    const otherFormat = Buffer.from(frame)
    otherFormat[1] = FORMAT_VERSION + 1
    const bad = [
      Buffer.from('hello world'),
      Buffer.from([]),
      otherFormat,
      Buffer.concat([frame.subarray(0, 2), Buffer.from([0xc1, 0xc1])]),
    ]
    // Cut anywhere, in the head or in the value: what a read does with a frame (the head, then the value) refuses it.
    for (let length = 0; length < frame.length; length++) bad.push(frame.subarray(0, length))
    for (const bytes of bad) expect(() => decodeValue(decodeEntry(bytes).value)).toThrow(CodecError)
  })

  it('refuses a head whose lengths, counts, texts or numbers are not what an entry holds', () => {
    const head = (query: number[], deps: number[], tail: number[] = [0xc0]) => {
      const times = Buffer.alloc(24)
      for (const at of [0, 8, 16]) times.writeDoubleBE(1, at)
      const length = Buffer.alloc(4)
      length.writeUInt32BE(query.length)
      return Buffer.from([0x53, FORMAT_VERSION, ...times, ...length, ...query, ...deps, ...tail])
    }
    const version = [...Buffer.from(new Float64Array([1764000000000001]).buffer).reverse()]
    const good = head([0x71], [0, 1, 0, 1, 0x6d, ...version])
    expect(decodeEntry(good)).toMatchObject({ query: 'q', deps: ['m'], versions: [1764000000000001] })
    const lengthClaim = Buffer.from(good)
    lengthClaim.writeUInt32BE(0xffffffff, 26) // a query of 4 GB
    const nan = Buffer.from(good)
    nan.writeDoubleBE(Number.NaN, 10)
    const infiniteVersion = head([0x71], [0, 1, 0, 1, 0x6d, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0])
    for (const bytes of [
      lengthClaim,
      nan,
      infiniteVersion,
      head([0x71], [0xff, 0xff]), // 65,535 dependencies in a few bytes
      head([0x71], [0, 1, 0xff, 0xff, 0x6d, ...version]), // a name longer than the frame
      head([0xc3, 0x28], [0, 0]), // a query that is not UTF-8
      head([0x71], [0, 1, 0, 2, 0xc0, 0xaf, ...version]), // a name that is not UTF-8 (an overlong "/")
    ]) {
      expect(() => decodeEntry(bytes)).toThrow(CodecError)
    }
    const unicode = { query: 'name = "日本語"', deps: ['t:é'], versions: [1764000000000002] }
    const back = decodeEntry(
      encodeEntry({ ...unicode, freshUntil: 1, staleUntil: 2, expiresAt: 3, value: encodeValue(null) }),
    )
    expect(back).toMatchObject(unicode)
    expect(decodeValue(back.value)).toBe(null)
  })
})

/** A frame of ours around `value` bytes: what an attacker with write access to our keys can forge. */
const frameOf = (value: Uint8Array) =>
  encodeEntry({ query: 'q', deps: [], versions: [], freshUntil: 1, staleUntil: 1, expiresAt: 1, value })

const codecError = (bytes: Uint8Array): CodecError => {
  try {
    decodeValue(bytes)
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError)
    return error as CodecError
  }
  throw new Error('decoded bytes it should have refused')
}

describe('codec: exact values', () => {
  it('keeps -0, NaN, the infinities and integers at every width boundary', () => {
    const numbers = [-0, 0, Number.NaN, Infinity, -Infinity, 0.1, -1.5e300, 5e-324]
    for (const n of [0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000, 2 ** 53 - 1, 2 ** 53 + 2])
      numbers.push(n, -n, n - 1, -n - 1)
    const back = decodeValue(encodeValue({ numbers, nested: { score: -0 } })) as { numbers: number[]; nested: object }
    for (const [i, n] of back.numbers.entries()) expect(Object.is(n, numbers[i]), `${numbers[i]}`).toBe(true)
    expect(Object.is((back.nested as { score: number }).score, -0)).toBe(true)
    const json = decodeValue(encodeValue(JSON.parse('{"__proto__":-0}'))) as Record<string, unknown>
    expect(Object.hasOwn(json, '__proto__')).toBe(true)
    expect(Object.is(json.__proto__, -0)).toBe(true)
  })

  it('keeps an own __proto__ key as an own property, in objects and in tables of rows', () => {
    const prefs = JSON.parse('{"__proto__":{"isAdmin":true},"theme":"dark"}')
    const rows = [
      { id: 1, prefs },
      { id: 2, prefs },
    ]
    for (const value of [prefs, rows, JSON.parse('[{"__proto__":1},{"__proto__":2}]')]) {
      const back = decodeValue(encodeValue(value))
      expect(back).toEqual(value)
      const objects = Array.isArray(back) ? back.map((row) => row.prefs ?? row) : [back]
      for (const object of objects) {
        expect(Object.getPrototypeOf(object)).toBe(Object.prototype)
        expect(Object.hasOwn(object, '__proto__')).toBe(true)
        expect(object.isAdmin).toBeUndefined()
      }
    }
  })

  it('keeps a __proto__ key as an own property in every string form MessagePack has', () => {
    const proto = [...Buffer.from('__proto__')]
    const inner = [0x81, 0xa7, ...Buffer.from('isAdmin'), 0xc3] // { isAdmin: true }
    for (const head of [[0xa9], [0xd9, 9], [0xda, 0, 9], [0xdb, 0, 0, 0, 9]]) {
      const back = decodeValue(Buffer.from([0x81, ...head, ...proto, ...inner])) as Record<string, unknown>
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
      expect(Object.hasOwn(back, '__proto__')).toBe(true)
      expect(back.isAdmin).toBeUndefined()
    }
  })

  it("leaves other msgpackr users' values as msgpackr writes them", () => {
    const packr = new Packr()
    const bytes = packr.pack({ at: new Date(1), balance: new Decimal('1.5') })
    expect(Buffer.from(bytes).includes(Buffer.from([0xd4, 0x54]))).toBe(false)
    expect(Buffer.from(bytes).includes(Buffer.from([0xd4, 0x44]))).toBe(false)
    expect((packr.unpack(bytes) as { at: Date }).at).toEqual(new Date(1))
  })

  it('round-trips strings, bytes, decimals, BigInts and dates of every size and form', () => {
    const value = {
      strings: ['', 'a', 'é', '日本語', 'x'.repeat(31), 'x'.repeat(64), 'ü'.repeat(200), 'y'.repeat(70_000)],
      bytes: [new Uint8Array(0), new Uint8Array(300).fill(7), new Uint8Array(70_000).fill(9)],
      decimals: ['0', '-1.5', '1e-30', '-9.99e+40', 'NaN', 'Infinity', '-Infinity'].map((d) => new Decimal(d)),
      bigints: [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)],
      dates: [new Date(0), new Date(-1), new Date(8.64e15)],
      empty: [[], {}, null, undefined, true, false],
      rows: [{ a: 1 }, { a: 2, b: 3 }, { b: 4, a: 5 }, 'not a row'],
    }
    const back = decodeValue(encodeValue(value)) as typeof value
    expect({ ...back, bytes: [] }).toEqual({ ...value, bytes: [] })
    for (const [i, d] of back.decimals.entries()) expect(d.toString()).toBe(value.decimals[i]?.toString())
    for (const [i, b] of back.bytes.entries()) {
      expect(b.constructor).toBe(Uint8Array)
      expect(Buffer.from(b).equals(value.bytes[i] as Uint8Array)).toBe(true)
    }
  })

  it('decodes every decimal to its own value, read once or again, past the bound of recently read ones', () => {
    const texts = Array.from({ length: 3000 }, (_, i) => `${i}.${i % 7}e${(i % 5) - 2}`)
    texts.push(`0.${'1'.repeat(80)}`, '-0', '1e-7', '123456789012345678901234567890')
    for (const round of [0, 1]) {
      const back = decodeValue(encodeValue(texts.map((t) => new Decimal(t)))) as InstanceType<typeof Decimal>[]
      for (const [i, d] of back.entries()) {
        expect(d, `round ${round}`).toBeInstanceOf(Decimal)
        expect(d.equals(new Decimal(texts[i] as string)), `${texts[i]}`).toBe(true)
      }
    }
  })

  it('decodes every key to itself, however many names share a slot of the key table', () => {
    const object: Record<string, number> = {}
    for (let i = 0; i < 10_000; i++) object[`k${i.toString(36)}${i % 3 ? 'é' : ''}`] = i
    const back = decodeValue(encodeValue([object, object, { ...object, extra: 1 }])) as Array<Record<string, number>>
    expect(back).toEqual([object, object, { ...object, extra: 1 }])
  })

  it('refuses to encode what Prisma never returns, and cycles', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    class Point {}
    for (const value of [
      new Map(),
      new Set([1]),
      /x/,
      new Error('e'),
      new Point(),
      () => 1,
      Symbol('s'),
      cyclic,
      2n ** 63n,
      2n ** 64n,
      -(2n ** 63n) - 1n,
    ])
      expect(() => encodeValue({ value })).toThrow(CodecError)
  })
})

describe('codec: hostile bytes', () => {
  it('refuses msgpackr structured-clone references: a cycle and a reference bomb decode to nothing', () => {
    const cyclic: Record<string, unknown> = { id: 1 }
    cyclic.self = cyclic
    let bomb: unknown = { id: 1 }
    for (let i = 0; i < 40; i++) bomb = [bomb, bomb] // 2^40 paths through shared references, in under 1 KB
    const clone = new Packr({ structuredClone: true })
    for (const value of [cyclic, bomb]) {
      const bytes = clone.pack(value)
      expect(bytes.length).toBeLessThan(1024)
      expect(codecError(bytes).message).toMatch(/not in Strata's encoding/)
      expect(() => decodeEntry(frameOf(bytes))).not.toThrow() // a well-formed frame: the value is what is refused
    }
  })

  it('refuses msgpackr Set, RegExp, Error, typed arrays and timestamps; a map is only ever an object', () => {
    const more = new Packr({ moreTypes: true, structuredClone: true })
    expect(Object.getPrototypeOf(decodeValue(more.pack(new Map([['isAdmin', true]]))))).toBe(Object.prototype)
    for (const bytes of [
      more.pack(new Set([1])),
      more.pack(/admin/),
      more.pack(new Error('boom')),
      more.pack(new Float64Array([1])),
      new Packr().pack(new Date()), // MessagePack's timestamp extension: not ours
      Buffer.from([0xca, 0, 0, 0, 0]), // float32
      Buffer.from([0xcf, 0, 0, 0, 0, 0, 0, 0, 1]), // uint64
    ]) {
      codecError(bytes)
    }
  })

  it('refuses counts the bytes cannot hold before allocating anything', () => {
    for (const bytes of [
      [0xdd, 0xff, 0xff, 0xff, 0xff], // array of 4 billion items
      [0xdf, 0xff, 0xff, 0xff, 0xff], // map of 4 billion entries
      [0xdb, 0xff, 0xff, 0xff, 0xff], // string of 4 GB
      [0xc6, 0xff, 0xff, 0xff, 0xff], // bytes of 4 GB
      [0xd4, 0x44, 0x00, 0xda, 0xff, 0xff], // a decimal of 64 KB
      [0x91, 0x81, 0xa1, 0x61, 0xdf, 0xff, 0xff, 0xff, 0xff, 0x01], // a row whose field claims 4 billion entries
    ]) {
      expect(codecError(Buffer.from(bytes)).message).toMatch(/truncated/)
    }
  })

  it('refuses nesting deeper than the limit, in arrays, maps and lists of rows', () => {
    const deep = (open: number[]) => Buffer.from([...Array.from({ length: 10_000 }, () => open).flat(), 0xc0])
    for (const bytes of [deep([0x91]), deep([0x81, 0xa1, 0x61]), deep([0x91, 0x81, 0xa1, 0x61])]) {
      expect(codecError(bytes).message).toMatch(/nested deeper than 100/)
    }
    // The encoder and the decoder agree on the limit: 100 levels are written and read, 101 neither.
    let nested: unknown = null
    for (let i = 0; i < 100; i++) nested = [nested]
    expect(decodeValue(encodeValue(nested))).toEqual(nested)
    expect(() => encodeValue([nested])).toThrow(CodecError)
    expect(codecError(Buffer.from([0x91, ...encodeValue(nested)])).message).toMatch(/nested deeper than 100/)
  })

  it('refuses malformed text, keys, decimals and trailing bytes', () => {
    for (const bytes of [
      [0xa2, 0xc3, 0x28], // invalid UTF-8
      [0xd9, 0x28, 0xc0, 0xaf, ...Array(38).fill(0x61)], // invalid UTF-8 (an overlong "/") in a long string
      [0x81, 0xa2, 0xc3, 0x28, 0xc0], // a key that is not UTF-8
      [0x81, 0x01, 0x02], // a map key that is not a string
      [0xc7, 0x03, 0x44, 0x61, 0x62, 0x63], // a decimal "abc"
      [0xd7, 0x54, 0, 0, 0], // a truncated date
      [0xd4, 0x44, 0x00, 0xa3, 0x61, 0x62, 0x63], // a decimal "abc", in Strata's form
      [0xd4, 0x44, 0x00, 0x01], // a decimal that is not text
      [0xd4, 0x54, 0x00, 0xcb, 0, 0, 0], // a truncated date, in Strata's form
      [0xd4, 0x54, 0x00, 0xa1, 0x31], // a date that is not a float64
      [0xd4, 0x00, 0x01], // undefined with a payload, in msgpackr's form
      [0xd4, 0x55, 0x01], // undefined with a payload
      [0xc0, 0xc0], // trailing bytes
      [0xc1], // a byte MessagePack never uses
      [0x91, 0x81, 0xc0, 0x01], // a row's key that is not a string
    ]) {
      codecError(Buffer.from(bytes))
    }
  })
})

// msgpackr's record definition head: fixext 1 of type 'r', then the id.
const DEFINE = [0xd4, 0x72]
const KEY_A = [0x91, 0xa1, 0x61] // the keys of a record: ['a']

describe('codec: records', () => {
  const rows = Array.from({ length: 10 }, (_, i) => ({
    id: i + 1,
    title: `Post ${i}`,
    published: i % 2 === 0,
    views: 64 + i, // integers a record id's byte would be, in maps
    at: new Date(1_764_000_000_000 + i),
    comments: [1, 2, 3].map((n) => ({ id: i * 3 + n, body: `Comment ${n}`, rating: new Decimal(`${n}.5`) })),
  }))

  it('writes a list of 8 rows or more with records (here 57% of the bytes), shorter ones with maps; both read back', () => {
    const head = (bytes: Uint8Array) => Buffer.from(bytes).indexOf(Buffer.from(DEFINE))
    const list = encodeValue(rows)
    const short = encodeValue(rows.slice(0, 7))
    const single = encodeValue(rows[0]) // a row that lists 3 rows
    const nested = encodeValue({ posts: rows.slice(0, 8) })
    expect(head(list)).toBeGreaterThanOrEqual(0)
    expect(head(nested)).toBeGreaterThanOrEqual(0)
    expect(head(short)).toBe(-1)
    expect(head(single)).toBe(-1)
    const inMaps = rows.reduce((bytes, { comments, ...row }) => {
      return bytes + encodeValue(row).length + comments.reduce((more, c) => more + encodeValue(c).length, 0)
    }, 0)
    expect(list.length).toBeLessThan(inMaps * 0.6)
    expect(decodeValue(list)).toEqual(rows)
    expect(decodeValue(short)).toEqual(rows.slice(0, 7))
    expect(decodeValue(single)).toEqual(rows[0])
    expect(decodeValue(nested)).toEqual({ posts: rows.slice(0, 8) })
  })

  it('writes values with a __keys__ or __proto__ key with maps: msgpackr keeps its record state under __keys__', () => {
    const odd = (i: number) => JSON.parse(`{"__keys__":${i},"constructor":2,"prototype":3,"isAdmin":4,"length":5}`)
    const sequence = [
      Array.from({ length: 8 }, (_, i) => ({ k: i })),
      Array.from({ length: 8 }, (_, i) => ({ k: i, data: odd(i) })),
      Array.from({ length: 8 }, (_, i) => ({ __keys__: { y: i }, pa: i })),
      Array.from({ length: 8 }, (_, i) => ({ pa: i })),
      Array.from({ length: 8 }, () => ({})),
      Array.from({ length: 8 }, (_, i) => ({ m: i, __keys__: i, constructor: i })),
      Array.from({ length: 8 }, (_, i) => ({ m: i })),
      Array.from({ length: 8 }, (_, i) => JSON.parse(`{"__proto__":${i},"z":1}`)),
    ]
    for (let round = 0; round < 2; round++) {
      for (const value of sequence) {
        const back = decodeValue(encodeValue(value))
        expect(back).toEqual(value)
        expect(JSON.stringify(back)).toBe(JSON.stringify(value))
      }
    }
    // Nothing reached the built-ins.
    const enumerated: string[] = []
    for (const key in [1, 2]) enumerated.push(key)
    expect(enumerated).toEqual(['0', '1'])
    expect(Object.hasOwn(Array.prototype, '__keys__')).toBe(false)
    expect(Object.hasOwn(Array.prototype, 'isAdmin')).toBe(false)
    expect(Object.hasOwn(Array, '__keys__')).toBe(false)
  })

  it('reads back lists of more shapes than record ids (64), and of rows whose keys differ in order', () => {
    const shapes = Array.from({ length: 150 }, (_, i) => ({ [`k${i % 70}`]: i, [`j${i % 3}`]: [{ a: i }, { a: -i }] }))
    const reordered = Array.from({ length: 8 }, (_, i) => (i % 2 ? { a: i, b: 2 } : { b: 3, a: i }))
    for (const value of [shapes, reordered]) {
      const back = decodeValue(encodeValue(value))
      expect(back).toEqual(value)
      expect(JSON.stringify(back)).toBe(JSON.stringify(value)) // key order too
    }
  })

  it('a list that fails to encode halfway leaves the lists written after it whole', () => {
    // msgpackr's record writer keeps state across values: a write that throws between a record's id and its
    // definition must not leave later values naming a record they never define.
    const list = (n: number, huge: boolean) =>
      Array.from({ length: n }, (_, i) => ({
        id: i,
        amount: new Decimal(huge && i === n - 1 ? `1.${'1'.repeat(70_000)}` : '1.5'),
      }))
    for (let round = 0; round < 3; round++) {
      expect(() => encodeValue(list(9, true))).toThrow(CodecError)
      for (const value of [list(9, false), [{ other: 1 }, ...list(8, false)], list(12, false)]) {
        expect(decodeValue(encodeValue(value))).toEqual(value)
      }
    }
  })

  it('reads a byte 0x40-0x7f as msgpackr does: an integer until its record is defined, then that record', () => {
    // [0x41 before any definition, define 0x41 {a: 1}, 0x41 {a: 2}, redefine 0x41 as ['b'] {b: 3}, 0x41 {b: 4}]
    const bytes = [0x95, 0x41, ...DEFINE, 0x41, ...KEY_A, 0x01, 0x41, 0x02, ...DEFINE, 0x41, 0x91, 0xa1, 0x62, 0x03]
    expect(decodeValue(Buffer.from([...bytes, 0x41, 0x04]))).toEqual([65, { a: 1 }, { a: 2 }, { b: 3 }, { b: 4 }])
    // Each value starts with no record: one defined by an earlier value is an integer here.
    expect(decodeValue(Buffer.from([0x91, 0x41]))).toEqual([65])
  })

  it('refuses forged records: __proto__ or non-string keys, no key array, ids and forms Strata never writes', () => {
    const proto = [0xa9, ...Buffer.from('__proto__')]
    for (const [bytes, message] of [
      [[...DEFINE, 0x40, 0x91, ...proto, 0x01], /__proto__/],
      [[...DEFINE, 0x40, 0x92, 0xa1, 0x61, ...proto, 0x01, 0x02], /__proto__/],
      [[...DEFINE, 0x40, 0x91, 0x01, 0x01], /not a string/],
      [[...DEFINE, 0x40, 0xa1, 0x61, 0x01], /keys are not an array/],
      [[...DEFINE, 0x3f, ...KEY_A, 0x01], /record id 0x3f/],
      [[...DEFINE, 0x80, ...KEY_A, 0x01], /record id 0x80/],
      [[0xd5, 0x72, 0x60, 0x01, ...KEY_A, 0x01], /0xd5/], // msgpackr's two-byte record ids
      [[...DEFINE, 0x40, 0x92, 0xa1, 0x61, 0xa1, 0x62, 0x01], /truncated/], // two keys, one value
      [[...DEFINE, 0x40, 0xdc, 0xff, 0xff, 0xa1, 0x61], /truncated/], // 65,535 keys claimed
      [[0x92, ...DEFINE, 0x40, 0x92, 0xa1, 0x61, 0xa1, 0x62, 0x01, 0x02, 0x40, 0x01], /truncated/], // a short object
      [[...DEFINE, 0x40, ...KEY_A, 0x01, 0xc0], /after the value/],
      // Strata writes a value with a __proto__ key in maps; read as maps, a map inside a record would stay a Map.
      [[0x92, 0x81, ...proto, 0x01, ...DEFINE, 0x40, ...KEY_A, 0x81, 0xa1, 0x78, 0x01], /records and a __proto__ key/],
      [[0x92, ...DEFINE, 0x40, ...KEY_A, 0x81, 0xa1, 0x78, 0x01, 0x81, ...proto, 0x01], /records and a __proto__ key/],
    ] as const) {
      expect(codecError(Buffer.from(bytes)).message).toMatch(message)
    }
  })

  it('refuses records nested deeper than the limit', () => {
    // Record 0x40 holds one value, itself a record 0x40: 10,000 levels in 10 KB.
    const deep = Buffer.from([...DEFINE, 0x40, ...KEY_A, ...Array(10_000).fill(0x40), 0xc0])
    expect(codecError(deep).message).toMatch(/nested deeper than 100/)
    let nested: unknown = null
    for (let i = 0; i < 49; i++) nested = [{ a: nested }, ...Array.from({ length: 7 }, () => ({ a: null }))]
    const bytes = encodeValue(nested)
    expect(Buffer.from(bytes).indexOf(Buffer.from(DEFINE))).toBeGreaterThanOrEqual(0)
    expect(decodeValue(bytes)).toEqual(nested)
  })
})
