// Runs the quick start with small sizes, on the in-process tier alone and with Redis, and checks what it shows.
import { existsSync } from 'node:fs'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { redisUrl } from '../../test/support/services.ts'
import { main, type QuickstartOptions, type QuickstartResult } from './main.ts'
import { progressBar } from './progress.ts'

const small: QuickstartOptions = { users: 30, posts: 120, comments: 300, operations: 800, progress: false }

async function runQuiet(options: QuickstartOptions): Promise<{ result: QuickstartResult; output: string }> {
  const lines: string[] = []
  const result = await main({ ...small, ...options, print: (line) => lines.push(line) })
  return { result, output: lines.join('\n') }
}

function expectTheStory(result: QuickstartResult, output: string) {
  for (const heading of ['1. The same query twice', '2. Writes are visible', '3. A rolled-back transaction', '4. A']) {
    expect(output).toContain(heading)
  }
  const [first, second] = result.repeat
  expect(first).toMatchObject({ source: 'database' })
  expect(first?.sql).toBeGreaterThan(0)
  expect(second).toMatchObject({ source: 'memory', sql: 0 })
  expect(second?.value).toEqual(first?.value)

  expect(result.write).toEqual({
    before: result.write.before,
    after: result.write.before + 1,
    visible: true,
    unrelated: 'memory',
  })

  expect(result.rollback.leftNoTrace).toBe(true)
  expect(result.rollback.inside).toBe(result.rollback.before + 1)
  expect(result.rollback.after).toBe(result.rollback.before)
  expect(result.rollback.database).toBe(result.rollback.before)

  const w = result.workload
  expect(w.hitRatio).toBeGreaterThan(0.5)
  expect(w.cached.reads.p50).toBeLessThan(w.plain.reads.p50)
  expect(w.cached.statements).toBeLessThan(w.plain.statements)
  expect(w.statementsSaved).toBe(w.plain.statements - w.cached.statements)
  // Only comments are written: user cards and post pages are never made stale, comment lists are.
  expect(w.models.User?.staleMisses).toBe(0)
  expect(w.models.Post?.staleMisses).toBe(0)
  expect(w.models.Comment?.staleMisses).toBeGreaterThan(0)
  for (const m of Object.values(w.models)) {
    expect(m.memoryHits + m.redisHits + m.firstReads + m.staleMisses).toBe(m.reads)
  }
  // Per-operation counters: user cards are the only User reads, so their hit ratio is User's.
  expect(w.operationHitRatio['user card']).toBeCloseTo(w.models.User?.hitRatio ?? Number.NaN, 9)
  expect(w.operationHitRatio['post comments']).toBeCloseTo(w.models.Comment?.hitRatio ?? Number.NaN, 9)
  expect(w.operationHitRatio['new comment']).toBeUndefined()
  for (const heading of ['plain p50', 'cached p50', 'hit ratio', 'database queries (SQL)', 'saved']) {
    expect(output).toContain(heading)
  }

  expect(existsSync(result.directory)).toBe(false)
}

describe('progress of the workload', () => {
  const capture = (isTTY: boolean) => {
    const writes: string[] = []
    return { writes, out: { isTTY, write: (text: string) => writes.push(text) } }
  }

  it('outside a terminal, prints one plain line per quarter', () => {
    const { writes, out } = capture(false)
    const bar = progressBar('cached client', 800, out)
    for (let done = 1; done <= 800; done++) bar.update(done)
    bar.end()
    expect(writes).toEqual([
      '   cached client 25% (200/800 operations)\n',
      '   cached client 50% (400/800 operations)\n',
      '   cached client 75% (600/800 operations)\n',
      '   cached client 100% (800/800 operations)\n',
    ])
  })

  it('on a terminal, redraws a bar in place only when the percentage changes, then clears it', () => {
    const { writes, out } = capture(true)
    const bar = progressBar('plain client', 5000, out)
    for (let done = 1; done <= 5000; done++) bar.update(done)
    bar.end()
    expect(writes).toHaveLength(102) // 0% .. 100%, and the clearing
    expect(writes.every((w) => w.startsWith('\r') && !w.includes('\n'))).toBe(true)
    expect(writes[100]).toMatch(/plain client █{30} 100% {2}5,000\/5,000$/)
    expect(writes[101]?.trim()).toBe('')
  })
})

describe('quick start', () => {
  it('shows the cache at work on the in-process tier', async () => {
    const { result, output } = await runQuiet({ redis: false })
    expect(result.tiers).toBe('memory')
    expect(result.workload.instances).toBe(1)
    expect(result.repeat).toHaveLength(2)
    expect(result.workload.models.User?.redisHits).toBe(0)
    expectTheStory(result, output)
  })

  it('shows the cache at work on Redis and the in-process tier', async () => {
    const url = await redisUrl()
    const { result, output } = await runQuiet({ redis: url })
    expect(result.tiers).toBe('redis+memory')
    expect(output).toContain('two tiers')
    expectTheStory(result, output)
    // A second instance is served by Redis first, then by its own memory.
    expect(result.repeat.slice(2)).toMatchObject([
      { source: 'Redis', sql: 0 },
      { source: 'memory', sql: 0 },
    ])
    // Two instances take turns in the workload: each one finds in Redis what the other filled.
    expect(result.workload.instances).toBe(2)
    expect(Object.values(result.workload.models).reduce((n, m) => n + m.redisHits, 0)).toBeGreaterThan(0)

    // The run removed its keys.
    const redis = new Redis(url)
    try {
      const [, entries] = await redis.scan('0', 'MATCH', `${result.prefix}:*`, 'COUNT', 10_000)
      const [, versions] = await redis.scan('0', 'MATCH', `{${result.prefix}}:*`, 'COUNT', 10_000)
      expect([...entries, ...versions]).toEqual([])
    } finally {
      redis.disconnect()
    }
  })
})
