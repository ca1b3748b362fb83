import { describe, expect, it } from 'vitest'
import { combineHooks } from '../src/observe/hooks'
import type { HitEvent } from '../src/options'

const hit: HitEvent = { model: 'User', operation: 'findMany', tier: 'local', stale: false }

describe('combineHooks', () => {
  it('passes a hook given once through as is, and leaves out hooks no set has', () => {
    const onHit = () => {}
    const combined = combineHooks({ onHit }, undefined, {})
    expect(combined.onHit).toBe(onHit)
    expect(Object.keys(combined)).toEqual(['onHit'])
  })

  it('calls every hook in order; one that throws does not stop the others, and its error is rethrown', () => {
    const calls: string[] = []
    const first = new Error('first')
    const combined = combineHooks(
      { onHit: (e) => calls.push(`a ${e.operation}`) },
      {
        onHit: () => {
          throw first
        },
      },
      {
        onHit: () => {
          throw new Error('second')
        },
      },
      { onHit: (e) => calls.push(`d ${e.tier}`), onMiss: () => calls.push('miss') },
    )
    expect(() => combined.onHit?.(hit)).toThrow(first)
    expect(calls).toEqual(['a findMany', 'd local'])
    combined.onMiss?.({ model: 'User', operation: 'findMany', durationMs: 1 })
    expect(calls).toEqual(['a findMany', 'd local', 'miss'])
  })
})
