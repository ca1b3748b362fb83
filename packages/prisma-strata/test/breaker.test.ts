import { afterEach, describe, expect, it, vi } from 'vitest'
import { Breaker } from '../src/store/breaker'

describe('circuit breaker', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('counts the requests in flight when Redis stalls as one failure, not one each', () => {
    vi.useFakeTimers()
    const breaker = new Breaker()
    const started = performance.now()
    vi.advanceTimersByTime(200)
    for (let i = 0; i < 50; i++) breaker.failed(started) // 50 reads that were all waiting on the stalled Redis
    expect(breaker.available).toBe(true)
  })

  it('opens after 3 failing periods, for 0.5 s, and doubles only while its trial calls keep failing', () => {
    vi.useFakeTimers()
    const breaker = new Breaker()
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(10)
      breaker.failed(performance.now())
    }
    expect(breaker.available).toBe(false)
    vi.advanceTimersByTime(500)
    expect(breaker.available).toBe(true)
    vi.advanceTimersByTime(10)
    breaker.failed(performance.now()) // the trial fails: open for 1 s
    vi.advanceTimersByTime(999)
    expect(breaker.available).toBe(false)
    vi.advanceTimersByTime(1)
    expect(breaker.available).toBe(true)
    breaker.succeeded()
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(10)
      breaker.failed(performance.now())
    }
    vi.advanceTimersByTime(500)
    expect(breaker.available).toBe(true) // back to 0.5 s after a success
  })
})
