import { afterEach, describe, expect, it, vi } from 'vitest'
import { CodecError, RedisUnavailableError } from '../src/errors'
import { createReporter } from '../src/metrics/report'
import { Stats } from '../src/metrics/stats'

describe('fault reporting', () => {
  afterEach(() => vi.restoreAllMocks())

  it('counts every fault and logs each code at most once per interval', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const stats = new Stats()
    const report = createReporter(stats, undefined)
    for (let i = 0; i < 100; i++) report(new RedisUnavailableError('GET', new Error('ECONNREFUSED')))
    report(new CodecError('junk'))
    expect(stats.snapshot({ entries: 0, bytes: 0 }).errors).toEqual({ E_REDIS_UNAVAILABLE: 100, E_CODEC: 1 })
    expect(warn).toHaveBeenCalledTimes(2)
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/E_REDIS_UNAVAILABLE .*ECONNREFUSED/)
  })

  it('hands faults to onError instead of logging, and survives a hook that throws', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const seen: string[] = []
    const report = createReporter(new Stats(), (e) => {
      seen.push(e.code)
      throw new Error('bad hook')
    })
    expect(() => report(new CodecError('junk'))).not.toThrow()
    expect(seen).toEqual(['E_CODEC'])
    expect(warn).not.toHaveBeenCalled()
  })
})
