// The row requests a streamed change sends (precise invalidation from the change stream): without the old row, its
// replica identity key stands for it, so predicates on the key alone are bumped by value and every other scheme
// whole; without even a key, none (the caller bumps every predicate of the model).
import { describe, expect, it } from 'vitest'
import { rowRequestsOf } from '../src/changes/row-changes'
import type { ModelInfo } from '../src/schema/model-graph'
import { parseRowRequest } from '../src/store/row-request'
import { preciseGraph } from './fixtures'

const tag = preciseGraph.models.get('Tag') as ModelInfo
const relation = { schema: 'public', name: 'Tag', keyColumns: ['id'] }
const fieldsOf = (requests: string[] | undefined) => requests?.map((r) => parseRowRequest(r)?.fields)

describe('row requests of streamed changes', () => {
  it('an update without its old row: the old row is its unchanged key, the new row whole', () => {
    const requests = rowRequestsOf(tag, { tag: 'update', relation, key: null, old: null, new: { id: 7, name: 'b' } })
    expect(fieldsOf(requests)).toEqual(['id', 'id,name'])
  })

  it('an update that moved the key: the old key is the one sent', () => {
    const moved = rowRequestsOf(tag, { tag: 'update', relation, key: { id: 3 }, old: null, new: { id: 7, name: 'b' } })
    const stayed = rowRequestsOf(tag, { tag: 'update', relation, key: null, old: null, new: { id: 7, name: 'b' } })
    expect(moved?.[0]).not.toEqual(stayed?.[0])
    expect(fieldsOf(moved)).toEqual(['id', 'id,name'])
  })

  it('a delete sends its key; with REPLICA IDENTITY FULL, its whole row', () => {
    expect(fieldsOf(rowRequestsOf(tag, { tag: 'delete', relation, key: { id: 7 }, old: null }))).toEqual(['id'])
    const full = rowRequestsOf(tag, { tag: 'delete', relation, key: null, old: { id: 7, name: 'b' } })
    expect(fieldsOf(full)).toEqual(['id,name'])
  })

  it('without a replica identity key, nothing is known of the old row: no requests', () => {
    const bare = { ...relation, keyColumns: [] }
    expect(rowRequestsOf(tag, { tag: 'update', relation: bare, key: null, old: null, new: { id: 7 } })).toBeUndefined()
    expect(rowRequestsOf(tag, { tag: 'delete', relation: bare, key: null, old: null })).toBeUndefined()
  })
})
