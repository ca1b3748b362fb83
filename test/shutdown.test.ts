// A script that used Strata exits after `$disconnect()`: the bus connection, the Redis connection Strata opened and
// its timers do not keep the process alive, and closing reports nothing.
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { createSqliteDatabase } from '../prisma/database.ts'
import { redisUrl } from './support/services.ts'

describe('shutdown', () => {
  it('a script exits on its own after $disconnect, having hit the cache', async () => {
    const db = await createSqliteDatabase()
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/exit-worker.ts'], {
      env: { ...process.env, REDIS_URL: await redisUrl(), SQLITE_URL: db.url },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    // A process kept alive by a handle never exits: the test's own timeout is what catches that hang.
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    await db.drop()
    expect(stderr).not.toMatch(/E_BUS|E_REDIS/)
    expect(code).toBe(0)
    expect(JSON.parse(stdout.trim())).toEqual({ ready: true, hits: 1 })
  })
})
