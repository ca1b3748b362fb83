import { describe, expect, it } from 'vitest'
import { type FineList, fineNames } from '../src/read/query-dependencies'
import { predicateNamer } from '../src/store/keys'

/** What the names of a fine list entry are: its base and each row's key name, each once, sorted. */
function expected(fine: FineList, rows: Array<{ id: number; tenant: string }>): string[] {
  return [...new Set([...fine.base, ...rows.map((row) => fine.rowName([`i${row.id}`, `s${row.tenant}`]))])].sort()
}

describe('the names of a fine list entry', () => {
  const rowName = predicateNamer('Post', 'id,tenant')
  const fine = (base: string[]): FineList => ({
    base: [...base].sort(),
    key: ['id', 'tenant'],
    types: ['Int', 'String'],
    rowName,
  })

  it('are the base and each row key name, each once, sorted, whatever the rows and the base hold', () => {
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let round = 0; round < 300; round++) {
      // Few ids and tenants: rows repeat, and a base may hold a row's own name.
      const rows = Array.from({ length: random(12) }, () => ({ id: random(6), tenant: 'ab'[random(2)] as string }))
      const base = ['e:Post', 'g:Post', 's:Post:id,tenant', 'a:Post:x', 'z', '0']
        .filter(() => random(2) === 0)
        .concat(random(2) && rows[0] ? [rowName([`i${rows[0].id}`, `s${rows[0].tenant}`])] : [])
      const list = fine(base)
      expect(fineNames(list, rows)).toEqual(expected(list, rows))
    }
  })

  it('of one row, of none, and of rows that do not carry their key', () => {
    const list = fine(['g:Post', 'e:Post'])
    expect(fineNames(list, { id: 1, tenant: 'a' })).toEqual(expected(list, [{ id: 1, tenant: 'a' }]))
    expect(fineNames(list, null)).toEqual(['e:Post', 'g:Post'])
    expect(fineNames(list, [{ id: 1 }])).toBeUndefined()
    expect(fineNames(list, [{ id: 1, tenant: null }])).toBeUndefined()
    expect(fineNames(list, [{ id: 1, tenant: 'a' }, 3])).toBeUndefined()
  })
})
