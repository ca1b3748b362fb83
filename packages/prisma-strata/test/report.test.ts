import { afterEach, describe, expect, it, vi } from 'vitest'
import { CodecError, RedisUnavailableError } from '../src/errors'
import { Reporter } from '../src/observe/reporter'
import { Stats } from '../src/observe/stats'

const hooks = () => ({
  onError: undefined,
  onHit: undefined,
  onMiss: undefined,
  onInvalidate: undefined,
  maxEntryBytes: 1024,
})

describe('fault reporting', () => {
  afterEach(() => vi.restoreAllMocks())

  it('counts every fault and logs each code at most once per interval', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const stats = new Stats()
    const report = new Reporter(stats, hooks()).error
    for (let i = 0; i < 100; i++) report(new RedisUnavailableError('GET', new Error('ECONNREFUSED')))
    report(new CodecError('junk'))
    expect(stats.snapshot({ entries: 0, bytes: 0 }).errors).toEqual({ E_REDIS_UNAVAILABLE: 100, E_CODEC: 1 })
    expect(warn).toHaveBeenCalledTimes(2)
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/E_REDIS_UNAVAILABLE .*ECONNREFUSED/)
  })

  it('hands faults to onError instead of logging, and survives a hook that throws', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const seen: string[] = []
    const report = new Reporter(new Stats(), {
      ...hooks(),
      onError: (e) => {
        seen.push(e.code)
        throw new Error('bad hook')
      },
    }).error
    expect(() => report(new CodecError('junk'))).not.toThrow()
    expect(seen).toEqual(['E_CODEC'])
    expect(warn).not.toHaveBeenCalled()
  })

  it("a hook that throws or rejects is a HookError, never the caller's", async () => {
    const seen: string[] = []
    const reporter = new Reporter(new Stats(), {
      ...hooks(),
      onError: (e) => {
        seen.push(e.code)
      },
      onHit: () => {
        throw new Error('sync')
      },
      onMiss: async () => {
        throw new Error('async')
      },
    })
    expect(() => reporter.hit({ model: 'User', operation: 'findMany', tier: 'local', stale: false })).not.toThrow()
    reporter.miss('User', 'findMany', performance.now())
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(seen).toEqual(['E_HOOK', 'E_HOOK'])
  })
})
