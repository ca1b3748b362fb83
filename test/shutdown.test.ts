// A script that used Strata exits after `$disconnect()`: the bus connection, the Redis connection Strata opened and
// its timers do not keep the process alive, and closing reports nothing.
import { spawn } from 'node:child_process'
import { Redis } from 'ioredis'
import { cache } from 'prisma-strata'
import { describe, expect, it } from 'vitest'
import { createSqliteDatabase } from '../prisma/database.ts'
import { newClient, newDatabase, waitForBus } from './support/matrix.ts'
import { redisUrl, startRedisServer } from './support/services.ts'

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

// A job that writes while Redis stalls, then disconnects: the bump its write owes is still sent as Redis answers
// again (close() waits for it), or every other instance keeps serving what the write changed until it expires.
describe('a job that writes during a Redis stall and exits', () => {
  it('its write is seen by the other instances once Redis answers', async () => {
    const db = await newDatabase('sqlite')
    const raw = newClient('sqlite', db.adapter())
    const server = await startRedisServer()
    const admin = new Redis(server.url)
    const errors: string[] = []
    const options = {
      redis: server.url,
      prefix: `job-exit-${process.pid}`,
      onError: (e: { code: string }) => errors.push(e.code),
    }
    const web = newClient('sqlite', db.adapter()).$extends(cache(options))
    const job = newClient('sqlite', db.adapter()).$extends(cache(options))
    try {
      const user = await raw.user.create({ data: { email: 'job@x', name: 'before' } })
      await Promise.all([waitForBus(web as never), waitForBus(job as never)])
      const read = () => web.user.findUnique({ where: { id: user.id } })
      await read()
      expect((await read())?.name).toBe('before')
      expect((await web.$cache.stats()).localHits).toBe(1)
      // Writes stall (reads too, for the stalled client): the job's bump cannot land before it disconnects.
      await admin.call('CLIENT', 'PAUSE', '1500', 'WRITE')
      await job.user.update({ where: { id: user.id }, data: { name: 'after' } })
      await job.$disconnect()
      expect(errors).not.toContain('E_BUMPS_LOST')
      expect((await read())?.name).toBe('after')
      const fresh = newClient('sqlite', db.adapter()).$extends(cache(options))
      expect((await fresh.user.findUnique({ where: { id: user.id } }))?.name).toBe('after')
      await fresh.$disconnect()
    } finally {
      await web.$disconnect()
      admin.disconnect()
      await server.stop()
      await raw.$disconnect()
      await db.drop()
    }
  })
})
