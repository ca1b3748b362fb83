import { describe, expect, it } from 'vitest'
import { hash, keySpace } from '../src/store/keys'

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
