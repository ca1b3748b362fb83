// Writes from outside Prisma, followed through PostgreSQL's change stream (`changes`): a write made with `pg`
// directly makes cached reads stale on every instance, a rolled-back transaction bumps nothing, TRUNCATE and a join
// table count, a follower that stops is replaced and nothing written meanwhile is lost, and a position is confirmed
// to PostgreSQL only once its bump is in Redis (design invariant 14, docs/design.md).
// The machine's shared PostgreSQL runs with wal_level=replica, so this file starts its own cluster with
// wal_level=logical from the local binaries (test/support/services.ts says how to install them if missing).
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { type CacheOptions, cache } from 'prisma-strata'
import { strataMetrics } from 'prisma-strata/prometheus'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresDatabase, type TestDatabase } from '../prisma/database.ts'
import { type CachedClient, newClient, type RawClient, waitForBus } from './support/matrix.ts'
import { type PostgresServer, redisUrl, startPostgresServer, startRedisServer } from './support/services.ts'

const here = dirname(fileURLToPath(import.meta.url))
const cli = join(here, '..', 'packages', 'prisma-strata', 'bin', 'prisma-strata.js')

/** Polls `check` until it holds; the cap only ends a test that would otherwise hang. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function runCli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [cli, ...args], (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` })
    })
  })
}

let seq = 0

describe('changes: following PostgreSQL logical replication', () => {
  let server: PostgresServer
  let db: TestDatabase
  let sql: pg.Client
  let raw: RawClient
  let redis: string
  const clients: CachedClient[] = []

  beforeAll(async () => {
    server = await startPostgresServer({ settings: ['wal_level=logical'] })
    db = await createPostgresDatabase(server.url)
    sql = new pg.Client({ connectionString: db.url })
    await sql.connect()
    // What `changes setup` creates, as the other tests need it (the setup test uses names of its own).
    await sql.query('CREATE PUBLICATION strata FOR ALL TABLES')
    raw = newClient('postgres', db.adapter())
    redis = await redisUrl()
  })
  afterAll(async () => {
    for (const client of clients) {
      await client.$cache.close()
      await client.$disconnect()
    }
    await raw?.$disconnect()
    await sql?.end()
    await db?.drop()
    await server?.stop()
  })

  /** A new slot of its own for a test, so what one test leaves unconfirmed never reaches another. */
  async function newSlot(): Promise<string> {
    const slot = `t${process.pid}_${seq++}`
    await sql.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot])
    return slot
  }

  async function instance(prefix: string, slot: string, extra: CacheOptions = {}): Promise<CachedClient> {
    const client = newClient('postgres', db.adapter()).$extends(
      cache({
        redis,
        prefix,
        changes: { postgres: { connectionString: db.url, slot }, leaseTimeout: 1000 },
        ...extra,
      }),
    )
    clients.push(client)
    await waitForBus(client)
    return client
  }

  async function close(client: CachedClient): Promise<void> {
    clients.splice(clients.indexOf(client), 1)
    await client.$cache.close()
    await client.$disconnect()
  }

  const following = (c: CachedClient) => c.$cache.stats().changes?.following === true
  const received = (c: CachedClient) => c.$cache.stats().changes?.transactions ?? 0

  async function confirmedFlush(slot: string): Promise<bigint> {
    const { rows } = await sql.query(
      `SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::text AS at FROM pg_replication_slots WHERE slot_name = $1`,
      [slot],
    )
    return BigInt(rows[0].at)
  }
  async function currentLsn(): Promise<bigint> {
    const { rows } = await sql.query(`SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::text AS at`)
    return BigInt(rows[0].at)
  }

  /** Reads until `client` answers `read` from its local tier with a value `ok` accepts. */
  async function untilCached<T>(
    client: CachedClient,
    read: () => PromiseLike<T>,
    ok: (value: T) => boolean = () => true,
  ) {
    await until('a cached read', async () => {
      const hits = client.$cache.stats().localHits
      const value = await read()
      return ok(value) && client.$cache.stats().localHits === hits + 1
    })
  }

  /** Waits until the slot's confirmed position passes everything written so far: all of it is bumped. */
  async function untilConfirmed(slot: string, what: string): Promise<void> {
    const at = await currentLsn()
    await until(what, async () => (await confirmedFlush(slot)) >= at)
  }

  it('setup: refuses a server without wal_level=logical saying where to set it; creates, keeps, then drops', async () => {
    const plain = await startPostgresServer()
    try {
      const refused = await runCli(['changes', 'setup', '--url', plain.url])
      expect(refused.code).toBe(1)
      expect(refused.out).toContain('wal_level is "replica"')
      expect(refused.out).toContain('rds.logical_replication')
      expect(refused.out).toContain('cloudsql.logical_decoding')
    } finally {
      await plain.stop()
    }
    const args = ['--url', db.url, '--slot', 'cli_slot', '--publication', 'cli_pub']
    const first = await runCli(['changes', 'setup', ...args])
    expect(first.out).toContain('created publication "cli_pub"')
    expect(first.out).toContain('created logical replication slot "cli_slot"')
    expect(first.code).toBe(0)
    const again = await runCli(['changes', 'setup', ...args])
    expect(again.code).toBe(0)
    expect(again.out).not.toContain('created')
    const { rows } = await sql.query(`SELECT plugin FROM pg_replication_slots WHERE slot_name = 'cli_slot'`)
    expect(rows).toEqual([{ plugin: 'pgoutput' }])
    const dropped = await runCli(['changes', 'drop', ...args])
    expect(dropped.code).toBe(0)
    expect((await sql.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'cli_slot'`)).rows).toEqual([])
    expect((await sql.query(`SELECT 1 FROM pg_publication WHERE pubname = 'cli_pub'`)).rows).toEqual([])
    // It starts a PostgreSQL server and four CLI processes, none of it Strata's waiting: 15 s on a loaded machine.
  }, 120_000)

  it('a missing slot is reported as E_CHANGES at start, and the cache keeps working', async () => {
    const errors: Array<{ code: string; message: string }> = []
    const client = await instance(`chg${seq++}`, 'no_such_slot', { onError: (e) => errors.push(e) })
    await until('the E_CHANGES report', () => errors.some((e) => e.code === 'E_CHANGES'))
    expect(errors.find((e) => e.code === 'E_CHANGES')?.message).toContain('"no_such_slot" does not exist')
    const user = await client.user.create({ data: { email: `missing${seq}@x`, name: 'a' } })
    expect(await client.user.findUnique({ where: { id: user.id } })).toEqual(user)
    expect(following(client)).toBe(false)
    await close(client)
  })

  it('a write made with pg directly makes the cached read stale on two instances', async () => {
    const slot = await newSlot()
    const prefix = `chg${seq++}`
    const [a, b] = [await instance(prefix, slot), await instance(prefix, slot)]
    await until('one follower', () => following(a) || following(b))
    expect(following(a) && following(b)).toBe(false)
    const { rows } = await sql.query(`INSERT INTO "User" (email, name) VALUES ($1, 'before') RETURNING id`, [
      `direct${seq}@x`,
    ])
    const id = rows[0].id as number
    // The insert bumped and confirmed before the reads are cached: a late bump of the insert would make them miss
    // and read the row as the update left it, so 'after' would not show that the update came through the stream.
    await untilConfirmed(slot, 'the insert to be confirmed')
    const read = (c: CachedClient) => c.user.findMany({ where: { id }, select: { name: true } })
    for (const c of [a, b]) {
      await untilCached(
        c,
        () => read(c),
        (rows) => rows[0]?.name === 'before',
      )
    }

    await sql.query(`UPDATE "User" SET name = 'after' WHERE id = $1`, [id])
    for (const c of [a, b])
      await until('the update to reach the instance', async () => (await read(c))[0]?.name === 'after')
    // Only the update's bump can have made the reads stale, and a transaction is counted when it is received, before
    // its bump: both are counted, once or more (a handover replays what was not confirmed, at least once).
    expect(received(a) + received(b)).toBeGreaterThanOrEqual(2)
    // The Prometheus collector: one follower among the two observed clients, its transactions counted.
    await until('exactly one follower', () => following(a) !== following(b))
    const registry = new Registry()
    const metrics = strataMetrics({ registry })
    metrics.observe(a)
    metrics.observe(b)
    const text = await registry.metrics()
    // A follower that lost its lease to a stall may hand over between the scrape and these lines: read the scrape alone.
    expect(text).toMatch(/^strata_changes_following 1$/m)
    expect(Number(/^strata_changes_transactions_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(2)
    expect(text).toMatch(/^strata_changes_lag_bytes \d+$/m)
  })

  it('a rolled-back transaction bumps nothing; TRUNCATE and an implicit many-to-many table do', async () => {
    const slot = await newSlot()
    const client = await instance(`chg${seq++}`, slot)
    await until('following', () => following(client))
    const user = await raw.user.create({ data: { email: `rb${seq}@x`, name: 'kept' } })
    const post = await raw.post.create({ data: { title: 'p', authorId: user.id } })
    await raw.comment.create({ data: { body: 'c', postId: post.id, authorId: user.id } })
    await until('the seed rows to be received', () => received(client) >= 3)
    // ...and bumped: from here on, only what the stream brings next can make the reads below stale.
    await until('the follower to catch up', () => client.$cache.stats().changes?.lagMs === 0)

    const readUser = () => client.user.findUnique({ where: { id: user.id } })
    const readComments = () => client.comment.findMany({ where: { postId: post.id } })
    const readTags = () => client.post.findUnique({ where: { id: post.id }, include: { tags: true } })
    await readUser()
    await readComments()
    await readTags()
    const before = client.$cache.stats()
    const seen = received(client)

    await sql.query('BEGIN')
    await sql.query(`UPDATE "User" SET name = 'rolled back' WHERE id = $1`, [user.id])
    await sql.query('ROLLBACK')
    // A committed marker on a table no read here depends on: once it is received, so would the rollback have been.
    await sql.query(`INSERT INTO "AuditLog" (action) VALUES ('marker')`)
    await until('the marker', () => received(client) === seen + 1)
    expect(await readUser()).toEqual(user)
    expect(client.$cache.stats().localHits).toBe(before.localHits + 1)
    expect(client.$cache.stats().misses).toBe(before.misses)

    await sql.query('TRUNCATE "Comment"')
    await until('the truncate to be reflected', async () => (await readComments()).length === 0)

    const tag = await raw.tag.create({ data: { name: `tag${seq}` } })
    await until('the tag insert', () => received(client) >= seen + 3)
    expect((await readTags())?.tags).toEqual([])
    await sql.query(`INSERT INTO "_PostToTag" ("A", "B") VALUES ($1, $2)`, [post.id, tag.id])
    await until('the join row to be reflected', async () => (await readTags())?.tags.length === 1)
  })

  it("a table of a model's name in another schema bumps nothing; the model's own table does", async () => {
    const slot = await newSlot()
    const client = await instance(`chg${seq++}`, slot)
    await until('following', () => following(client))
    await sql.query('CREATE SCHEMA IF NOT EXISTS other')
    await sql.query('CREATE TABLE IF NOT EXISTS other."User" (id int PRIMARY KEY, name text)')
    const user = await raw.user.create({ data: { email: `schema${seq}@x`, name: 'v0' } })
    await untilConfirmed(slot, 'the create to be confirmed')
    const read = () => client.user.findUniqueOrThrow({ where: { id: user.id } })
    await untilCached(client, read)
    const before = client.$cache.stats()
    const seen = received(client)

    await sql.query(`INSERT INTO other."User" (id, name) VALUES ($1, 'x')`, [seq])
    await sql.query(`UPDATE other."User" SET name = 'y' WHERE id = $1`, [seq])
    await sql.query(`DELETE FROM other."User" WHERE id = $1`, [seq])
    // Confirmed past them: their batches (and the bumps they would cause) are done.
    await untilConfirmed(slot, "the other schema's changes to be confirmed")
    expect(received(client)).toBeGreaterThanOrEqual(seen + 3)
    expect(await read()).toEqual(user)
    expect(client.$cache.stats().localHits).toBe(before.localHits + 1)
    expect(client.$cache.stats().misses).toBe(before.misses)

    await sql.query(`UPDATE public."User" SET name = 'v1' WHERE id = $1`, [user.id])
    await until("the update of the model's own table to be reflected", async () => (await read()).name === 'v1')
  })

  it('when the follower stops, another instance takes over and what was written meanwhile is reflected', async () => {
    const slot = await newSlot()
    const prefix = `chg${seq++}`
    const [a, b] = [await instance(prefix, slot), await instance(prefix, slot)]
    await until('one follower', () => following(a) || following(b))
    const [leader, other] = following(a) ? [a, b] : [b, a]
    const user = await raw.user.create({ data: { email: `takeover${seq}@x`, name: 'v0' } })
    const atCreate = await currentLsn()
    // The leader bumped the create (it confirms only after): what makes the entry below stale is what follows.
    await until('the create to be confirmed', async () => (await confirmedFlush(slot)) >= atCreate)
    const read = () => other.user.findUniqueOrThrow({ where: { id: user.id } })
    await untilCached(other, read, (row) => row.name === 'v0')
    expect(received(other)).toBe(0)

    await close(leader)
    const writes = ['v1', 'v2', 'v3']
    for (const name of writes) await sql.query(`UPDATE "User" SET name = $1 WHERE id = $2`, [name, user.id])
    await until('the other instance to follow', () => following(other))
    await until('the last write to be reflected', async () => (await read()).name === 'v3')
    // It replayed from the slot's confirmed position: every write made during the takeover is received.
    await until('every write to be received', () => received(other) >= writes.length)
  })

  it('a follower process killed mid-stream (its lease left to expire) is replaced; writes made meanwhile are reflected', async () => {
    const slot = await newSlot()
    const prefix = `chg${seq++}`
    const worker: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/support/follower-worker.ts'], {
      cwd: join(here, '..'),
      env: { ...process.env, REDIS_URL: redis, FOLLOW_DATABASE_URL: db.url, FOLLOW_SLOT: slot, FOLLOW_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      let out = ''
      worker.stdout?.on('data', (chunk) => {
        out += String(chunk)
      })
      await until('the worker to follow', () => out.includes('following'), 60_000)
      const other = await instance(prefix, slot)
      const user = await raw.user.create({ data: { email: `killed${seq}@x`, name: 'v0' } })
      const atCreate = await currentLsn()
      // The worker bumped the create (it confirms only after): what makes the entry below stale is what follows.
      await until('the create to be confirmed', async () => (await confirmedFlush(slot)) >= atCreate)
      const read = () => other.user.findUniqueOrThrow({ where: { id: user.id } })
      await untilCached(other, read, (row) => row.name === 'v0')
      expect(following(other)).toBe(false)

      const exited = new Promise((r) => worker.once('exit', r))
      worker.kill('SIGKILL')
      await exited
      for (const name of ['v1', 'v2']) await sql.query(`UPDATE "User" SET name = $1 WHERE id = $2`, [name, user.id])
      await until('the other instance to follow', () => following(other))
      await until('the last write to be reflected', async () => (await read()).name === 'v2')
      await until('both writes to be received', () => received(other) >= 2)
    } finally {
      worker.kill('SIGKILL')
    }
  })

  it('a replication connection that drops is reported and followed again; what was written meanwhile is reflected', async () => {
    const slot = await newSlot()
    const errors: string[] = []
    const client = await instance(`chg${seq++}`, slot, { onError: (e) => errors.push(e.message) })
    await until('following', () => following(client))
    const user = await raw.user.create({ data: { email: `drop${seq}@x`, name: 'v0' } })
    const read = () => client.user.findUniqueOrThrow({ where: { id: user.id } })
    await until('the create to be bumped', () => client.$cache.stats().changes?.lagMs === 0 && received(client) >= 1)
    await untilCached(client, read, (row) => row.name === 'v0')

    const { rows } = await sql.query(
      'SELECT pg_terminate_backend(active_pid) AS done FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    )
    expect(rows).toEqual([{ done: true }])
    await sql.query(`UPDATE "User" SET name = 'while reconnecting' WHERE id = $1`, [user.id])
    await until('the update to be reflected', async () => (await read()).name === 'while reconnecting')
    expect(errors.some((m) => m.includes('the change stream stopped'))).toBe(true)
    expect(following(client)).toBe(true)
  })

  it('PostgreSQL restarted while instances follow: the follower resumes from the slot; writes before and after are reflected on every instance', async () => {
    const slot = await newSlot()
    const prefix = `chg${seq++}`
    const errors: string[] = []
    const onError = (e: { message: string }) => errors.push(e.message)
    const [a, b] = [await instance(prefix, slot, { onError }), await instance(prefix, slot, { onError })]
    await until('one follower', () => following(a) || following(b))
    const user = await raw.user.create({ data: { email: `restart${seq}@x`, name: 'v0' } })
    const tag = await raw.tag.create({ data: { name: `restart${seq}` } })
    // Both creates bumped and confirmed: from here on, only the writes below can make the reads stale.
    await untilConfirmed(slot, 'the creates to be confirmed')
    // Each write goes to its own model, so each read's staleness shows that one write arrived.
    const readUser = (c: CachedClient) => c.user.findUniqueOrThrow({ where: { id: user.id } })
    const readTag = (c: CachedClient) => c.tag.findUniqueOrThrow({ where: { id: tag.id } })
    for (const c of [a, b]) {
      await untilCached(c, () => readUser(c))
      await untilCached(c, () => readTag(c))
    }

    // Committed just before the server goes down: it may or may not have been streamed, and is not confirmed yet.
    await sql.query(`UPDATE "User" SET name = 'before restart' WHERE id = $1`, [user.id])
    await sql.end()
    await server.restart()
    sql = new pg.Client({ connectionString: db.url })
    await sql.connect()
    await sql.query(`UPDATE "Tag" SET name = 'after restart' WHERE id = $1`, [tag.id])

    // A read through a pool whose connections the restart closed may fail once: that is not what is checked here.
    const settled = async <T>(read: () => Promise<T>) => read().catch(() => undefined)
    for (const c of [a, b]) {
      await until('the write before the restart to be reflected', async () => {
        return (await settled(() => readUser(c)))?.name === 'before restart'
      })
      await until('the write after the restart to be reflected', async () => {
        return (await settled(() => readTag(c)))?.name === 'after restart'
      })
    }
    await untilConfirmed(slot, 'the follower to confirm past the last write')
    expect(following(a) || following(b)).toBe(true)
    expect(errors.some((m) => m.includes('the change stream stopped'))).toBe(true)
  })

  it('an update without its old row bumps predicates on the key by value and every other scheme whole; with REPLICA IDENTITY FULL only those its old and new rows match', async () => {
    const slot = await newSlot()
    const client = await instance(`chg${seq++}`, slot)
    await until('following', () => following(client))
    expect(client.$cache.precise).toBe(true)
    const x = await raw.tag.create({ data: { name: `x${seq}` } })
    const y = await raw.tag.create({ data: { name: `y${seq}` } })
    await until('the creates to be bumped', () => received(client) >= 2 && client.$cache.stats().changes?.lagMs === 0)
    const readX = () => client.tag.findMany({ where: { name: x.name } })
    const readY = () => client.tag.findUniqueOrThrow({ where: { id: y.id } })
    const readXById = () => client.tag.findUniqueOrThrow({ where: { id: x.id } })
    const cached = (read: () => Promise<unknown>) => untilCached(client, read)
    await cached(readX)
    await cached(readY)
    await cached(readXById)

    // Without the old row (the default replica identity), only its key is known (the update left it as it was):
    // which names it left is unknown, so every read by name goes; a read by another id stays.
    await sql.query(`UPDATE "Tag" SET name = $1 WHERE id = $2`, [`${y.name}-1`, y.id])
    await until('the update of y', async () => (await readY()).name === `${y.name}-1`)
    let misses = client.$cache.stats().misses
    expect(await readX()).toEqual([x])
    expect(client.$cache.stats().misses).toBe(misses + 1)
    const byIdHits = client.$cache.stats().localHits
    expect(await readXById()).toEqual(x)
    expect(client.$cache.stats().localHits).toBe(byIdHits + 1)
    // A delete sends its key: the deleted row's own read goes, the other row's read by id stays.
    const z = await raw.tag.create({ data: { name: `z${seq}` } })
    const readZ = () => client.tag.findUnique({ where: { id: z.id } })
    await until('the create of z', async () => (await readZ()) !== null)
    await cached(readZ)
    await cached(readXById)
    await sql.query('DELETE FROM "Tag" WHERE id = $1', [z.id])
    await until('the delete of z', async () => (await readZ()) === null)
    const afterDeleteHits = client.$cache.stats().localHits
    expect(await readXById()).toEqual(x)
    expect(client.$cache.stats().localHits).toBe(afterDeleteHits + 1)

    await sql.query('ALTER TABLE "Tag" REPLICA IDENTITY FULL')
    try {
      await cached(readX)
      await cached(readY)
      await sql.query(`UPDATE "Tag" SET name = $1 WHERE id = $2`, [`${x.name}-1`, x.id])
      await until('the update of x', async () => (await readX()).length === 0)
      misses = client.$cache.stats().misses
      const hits = client.$cache.stats().localHits
      expect((await readY()).name).toBe(`${y.name}-1`)
      expect(client.$cache.stats().localHits).toBe(hits + 1)
      expect(client.$cache.stats().misses).toBe(misses)
    } finally {
      await sql.query('ALTER TABLE "Tag" REPLICA IDENTITY DEFAULT')
    }
  })

  it('while Redis is down, changes are received but not confirmed; once it is back they are bumped, then confirmed', async () => {
    const own = await startRedisServer()
    const port = own.port
    let current = own
    try {
      const slot = await newSlot()
      const client = newClient('postgres', db.adapter()).$extends(
        cache({
          redis: own.url,
          prefix: `chg${seq++}`,
          redisTimeout: 100,
          onError: () => {},
          changes: { postgres: { connectionString: db.url, slot }, leaseTimeout: 1000 },
        }),
      )
      clients.push(client)
      await waitForBus(client)
      await until('following', () => following(client))
      const user = await raw.user.create({ data: { email: `down${seq}@x`, name: 'up' } })
      const atCreate = await currentLsn()
      await until('the create to be confirmed', async () => (await confirmedFlush(slot)) >= atCreate)

      await current.stop()
      const seen = received(client)
      const bumps = client.$cache.stats().changes?.bumps ?? 0
      // Whatever was confirmed before the update is at or below this; the update's commit ends above it.
      const beforeUpdate = await currentLsn()
      await sql.query(`UPDATE "User" SET name = 'while down' WHERE id = $1`, [user.id])
      await until('the update to be received and its bump tried', () => {
        const s = client.$cache.stats().changes
        return received(client) === seen + 1 && (s?.bumps ?? 0) === bumps + 1
      })
      // A later change is received too: had the first position been confirmed without its bump, it would be by now.
      await sql.query(`INSERT INTO "AuditLog" (action) VALUES ('later')`)
      const atLater = await currentLsn()
      await until('the later change to be received', () => received(client) === seen + 2)
      expect(await confirmedFlush(slot)).toBeLessThanOrEqual(beforeUpdate)
      expect(client.$cache.stats().changes?.lagMs).toBeGreaterThanOrEqual(0)

      current = await startRedisServer({ args: ['--port', String(port)] })
      await until('both changes to be confirmed', async () => (await confirmedFlush(slot)) >= atLater)
      expect(client.$cache.stats().changes?.bumps).toBeGreaterThanOrEqual(bumps + 1)
      expect((await client.user.findUniqueOrThrow({ where: { id: user.id } })).name).toBe('while down')
    } finally {
      await current.stop()
    }
  })
})
