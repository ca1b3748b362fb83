import { describe, expect, it } from 'vitest'
import { hash, keySpace, predicateNamer, predicateVersionName, valueHash } from '../src/store/keys'

describe('entry keys', () => {
  it('name every query by its hash, under each model, past the memo of recent texts', () => {
    const keys = keySpace('p')
    const texts = Array.from({ length: 25_000 }, (_, i) => `User|findUnique|{where:{id:${i}}}`)
    for (const round of [0, 1]) {
      for (const [i, text] of texts.entries()) {
        const model = (i + round) % 2 ? 'User' : 'Post'
        expect(keys.entry(model, text)).toBe(`p:e:${model}:${hash(text)}`)
      }
    }
    expect(keys.entry('User', 'é'.repeat(5_000_000))).toBe(`p:e:User:${hash('é'.repeat(5_000_000))}`)
    expect(keySpace('other').entry('User', texts[0] as string)).toBe(`other:e:User:${hash(texts[0] as string)}`)
  })
})

describe('predicate names by value texts', () => {
  const expected = (model: string, scheme: string, texts: string[]) =>
    predicateVersionName(model, scheme, texts.map(valueHash))

  it('name each value list as its hashes do, per model and scheme, past the bound of names kept', () => {
    const cases: Array<[string, string, string[]]> = []
    for (let i = 0; i < 12_000; i++) {
      cases.push(['Post', 'id', [`i${i}`]])
      cases.push(['User', 'id', [`i${i}`]]) // the same value text under another model
      cases.push(['Post', 'authorId,published', [`i${i % 50}`, i % 2 ? 'b1' : 'b0']])
    }
    for (const _round of [0, 1]) {
      for (const [model, scheme, texts] of cases) {
        expect(predicateNamer(model, scheme)(texts)).toBe(expected(model, scheme, texts))
      }
    }
  })
})
