// Adversary of the change-stream follower (`changes`): outside writes made with `pg` directly (transactions,
// savepoints, multi-statement, COPY, TRUNCATE ... CASCADE, ON CONFLICT, key moves, join tables, DDL, large and
// interleaved transactions) and faults (follower handover mid-stream, Redis FLUSHALL, a second prefix on the slot, a
// publication without a table). After each, every cached read on every instance must come to equal what an uncached
// client reads; an answer that stays different past a generous bound is a wrong answer, not lag.
// Its own PostgreSQL cluster (wal_level=logical) and its own Redis server (FLUSHALL is one of the attacks), on the
// precise-invalidation adversary's schema (test/adversary/precise-models.prisma: @@map, @map, BigInt ids, enums, a
// composite foreign key with ON UPDATE CASCADE, implicit many-to-many tables).
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import pg from 'pg'
import { type CacheOptions, cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrismaClient } from '../../generated/adversary-precise/postgres/client/client.ts'
import { createTables, newPostgresDatabase } from '../../prisma/database.ts'
import { type LocalServer, type PostgresServer, startPostgresServer, startRedisServer } from '../support/services.ts'
import { type Cached, type Raw, seedPrecise, settle } from './precise-database.ts'

const here = dirname(fileURLToPath(import.meta.url))
const schemaPath = join(here, '..', '..', 'generated', 'adversary-precise', 'postgres', 'schema.prisma')

/** How long an answer may differ from the database after an outside commit before it counts as wrong. */
const BOUND_MS = 5000
/**
 * How long a known gap's read is watched once its slot confirmed the change: the `staleness` option's default. A fix
 * that bumps as the change is confirmed closes the gap within it (and the test fails, as it should); one that bumps or
 * reports later than that would go unnoticed here.
 */
const AFTER_CONFIRMED_MS = 1000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/**
 * Drops a replication slot (if it exists) once no walsender holds it: closing a follower closes its connection at
 * once, but the server ends the walsender that held the slot a moment later, and an active slot cannot be dropped.
 * A walsender still there after a second is ended. Cleanup: a failure is printed, never thrown over the test's own.
 */
async function dropSlot(client: pg.Client, slot: string): Promise<void> {
  try {
    for (let attempt = 0; ; attempt++) {
      const { rows } = await client.query<{ active_pid: number | null }>(
        'SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      )
      const held = rows[0]
      if (held === undefined) return
      if (held.active_pid === null) {
        await client.query('SELECT pg_drop_replication_slot($1)', [slot])
        return
      }
      if (attempt === 50) await client.query('SELECT pg_terminate_backend($1)', [held.active_pid])
      if (attempt === 250) throw new Error(`still held by the backend ${held.active_pid}`)
      await sleep(20)
    }
  } catch (error) {
    console.warn(`[changes adversary] the replication slot ${slot} was not dropped:`, error)
  }
}

/** The reads compared after every attack: point reads, equalities, relation lists, counts, _count, aggregates. */
function reads(p: Raw): Array<[string, () => PromiseLike<unknown>]> {
  const byId = { orderBy: { id: 'asc' as const } }
  const list: Array<[string, () => PromiseLike<unknown>]> = []
  for (const id of [1, 2, 3, 100, 101]) {
    list.push([`account ${id}`, () => p.account.findUnique({ where: { id } })])
    list.push([
      `account ${id} with notes, groups, _count`,
      () =>
        p.account.findUnique({
          where: { id },
          include: { notes: byId, groups: byId, pins: true, _count: { select: { notes: true, mentees: true } } },
        }),
    ])
    list.push([`notes of owner ${id}`, () => p.note.findMany({ where: { ownerId: id }, ...byId })])
    list.push([`count notes of owner ${id}`, () => p.note.count({ where: { ownerId: id } })])
    list.push([`mentees of ${id}`, () => p.account.findMany({ where: { mentorId: id }, ...byId })])
    list.push([`note ${id} with tags`, () => p.note.findUnique({ where: { id }, include: { tags: byId } })])
  }
  list.push(['accounts without mentor', () => p.account.findMany({ where: { mentorId: null }, ...byId })])
  list.push(['notes without owner', () => p.note.findMany({ where: { ownerId: null }, ...byId })])
  list.push(['count notes without owner handle', () => p.note.count({ where: { ownerHandle: null } })])
  for (const handle of ['ann', 'bob', 'cyd', 'dee', 'eve'])
    list.push([`account ${handle}`, () => p.account.findUnique({ where: { handle } })])
  for (const tier of ['FREE', 'PRO'] as const) {
    list.push([`accounts ${tier}`, () => p.account.findMany({ where: { tier }, ...byId })])
    list.push([`count notes kind ${tier}`, () => p.note.count({ where: { kind: tier } })])
  }
  for (const active of [true, false]) list.push([`active ${active}`, () => p.account.count({ where: { active } })])
  for (const pinned of [true, false])
    list.push([
      `aggregate pinned ${pinned}`,
      () => p.note.aggregate({ where: { pinned }, _sum: { rank: true }, _count: { _all: true }, _max: { id: true } }),
    ])
  for (const rank of [0, 5, 7]) list.push([`notes rank ${rank}`, () => p.note.findMany({ where: { rank }, ...byId })])
  for (const id of [1n, 2n, 3n])
    list.push([`tag ${id} with notes`, () => p.tag.findUnique({ where: { id }, include: { notes: byId } })])
  for (const name of ['red', 'blue', 'green'])
    list.push([`tag ${name}`, () => p.tag.findMany({ where: { name }, include: { _count: true } })])
  list.push(['shelves with notes', () => p.shelf.findMany({ include: { notes: byId }, orderBy: { code: 'asc' } })])
  list.push(['notes on shelf A/1', () => p.note.findMany({ where: { shelfCode: 'A', shelfNo: 1 }, ...byId })])
  list.push(['groups with accounts', () => p.group.findMany({ include: { accounts: byId }, ...byId })])
  list.push(['profile of 1', () => p.profile.findUnique({ where: { accountId: 1 } })])
  list.push(['all accounts', () => p.account.findMany(byId)])
  list.push(['count all notes', () => p.note.count()])
  list.push(['pins', () => p.pin.findMany({ orderBy: [{ accountId: 'asc' }, { noteId: 'asc' }] })])
  return list
}

describe('adversary: the change-stream follower against outside writes', () => {
  let server: PostgresServer
  let redisServer: LocalServer
  let url: string
  let drop: () => Promise<void>
  let sql: pg.Client
  let oracle: Raw
  let slot: string
  const clients: Cached[] = []
  let a: Cached
  let b: Cached
  let seq = 0

  const newPrisma = () => new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as Raw

  /**
   * A client of the schema as it was before the model `Note` was added, as Strata reads it: Prisma's data model and
   * the schema text the client carries, both without the model and the relation fields to it (its table, and the
   * join table to tags, are then no model's).
   */
  function olderSchema(): Raw {
    type Model = { fields: Array<{ type: string }> }
    const client = newPrisma() as unknown as {
      _runtimeDataModel: { models: Record<string, Model> }
      _engineConfig: { inlineSchema: string }
    }
    const models = Object.entries(client._runtimeDataModel.models)
      .filter(([name]) => name !== 'Note')
      .map(([name, model]) => [name, { ...model, fields: model.fields.filter((f) => f.type !== 'Note') }])
    client._runtimeDataModel = { ...client._runtimeDataModel, models: Object.fromEntries(models) }
    const text = client._engineConfig.inlineSchema
    const older = text.replace(/^model Note \{[\s\S]*?^\}\n/m, '').replace(/^\s+\w+\s+Note(\[\]|\?)?(\s.*)?\n/gm, '')
    expect(older).not.toMatch(/\bNote\b/)
    client._engineConfig = { ...client._engineConfig, inlineSchema: older }
    return client as unknown as Raw
  }

  async function instance(prefix: string, slotName = slot, extra: CacheOptions = {}): Promise<Cached> {
    const client = newPrisma().$extends(
      cache({
        redis: redisServer.url,
        prefix,
        onError: () => {},
        changes: { postgres: { connectionString: url, slot: slotName }, leaseTimeout: 1000 },
        ...extra,
      }),
    ) as unknown as Cached
    clients.push(client)
    await client.$cache.whenReady(5000)
    return client
  }
  async function close(client: Cached): Promise<void> {
    clients.splice(clients.indexOf(client), 1)
    await client.$cache.close()
    await client.$disconnect()
  }
  const following = (c: Cached) => c.$cache.stats().changes?.following === true

  async function lsnOf(query: string, params: unknown[] = []): Promise<bigint> {
    const { rows } = await sql.query(query, params)
    return BigInt(rows[0]?.at ?? -1)
  }
  const currentLsn = () => lsnOf(`SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::text AS at`)
  const confirmed = (name = slot) =>
    lsnOf(
      `SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::text AS at FROM pg_replication_slots WHERE slot_name = $1`,
      [name],
    )
  /** Everything written so far is bumped (the follower confirms a position only after its bump is in Redis). */
  async function caughtUp(name = slot): Promise<void> {
    const at = await currentLsn()
    await until(`slot ${name} to confirm`, async () => (await confirmed(name)) >= at)
  }

  /** Fills every read on every instance (twice: the second answer comes from the cache). */
  async function warm(on: Cached[] = [a, b]): Promise<void> {
    await caughtUp()
    for (const c of on) for (const [, read] of reads(c)) for (let i = 0; i < 2; i++) await settle(read)
  }

  /** The reads that, on some instance, still differ from the database `BOUND_MS` after the attack. */
  async function stale(on: Cached[] = [a, b]): Promise<string[]> {
    const wrong: string[] = []
    const truth = reads(oracle)
    for (const [i, c] of on.entries()) {
      const mine = reads(c)
      for (const [k, [name, read]] of mine.entries()) {
        const start = Date.now()
        for (;;) {
          const [got, want] = [await settle(read), await settle(truth[k]?.[1] as () => PromiseLike<unknown>)]
          if (got === want) break
          if (Date.now() - start > BOUND_MS) {
            wrong.push(`instance ${i}: ${name}: cached ${got} but the database says ${want}`)
            break
          }
          await sleep(50)
        }
      }
    }
    return wrong
  }

  async function flushAll(): Promise<void> {
    const redis = new Redis(redisServer.url)
    try {
      await redis.flushall()
    } finally {
      redis.disconnect()
    }
  }

  /** Closes the instance that follows; the other one, or a new instance that joins the prefix, takes over. */
  async function handOver(): Promise<void> {
    const [leader, other] = following(a) ? [a, b] : [b, a]
    await close(leader)
    a = other
    b = await instance(`advchg${process.pid}`)
  }

  /** Runs each statement in turn on the outside connection. */
  async function run(...statements: string[]): Promise<void> {
    for (const statement of statements) await sql.query(statement)
  }

  /** Whether `read` on `c` comes to equal the uncached answer within `bound` ms. */
  async function converges(
    c: Cached,
    read: (p: Raw) => PromiseLike<unknown>,
    truth: Raw = oracle,
    bound = BOUND_MS,
  ): Promise<boolean> {
    const start = Date.now()
    for (;;) {
      if ((await settle(() => read(c))) === (await settle(() => read(truth)))) return true
      if (Date.now() - start > bound) return false
      await sleep(50)
    }
  }

  /** Warms, runs `attack`, then asserts every read on every instance converges to the database. */
  async function attack(run: () => Promise<void>, on: Cached[] = [a, b]): Promise<void> {
    await warm(on)
    await run()
    expect(await stale(on)).toEqual([])
  }

  async function reseed(): Promise<void> {
    await sql.query(
      'TRUNCATE accounts, notes, "Profile", "Shelf", "Tag", "Group", "Pin", "_NoteToTag", "_AccountToGroup" RESTART IDENTITY CASCADE',
    )
    await seedPrecise(oracle)
  }

  beforeAll(async () => {
    server = await startPostgresServer({ settings: ['wal_level=logical'] })
    redisServer = await startRedisServer()
    const db = await newPostgresDatabase(server.url, 'advchg')
    url = db.url
    drop = db.drop
    await createTables('postgres', url, { path: schemaPath, content: readFileSync(schemaPath, 'utf8') })
    sql = new pg.Client({ connectionString: url })
    await sql.connect()
    await sql.query('CREATE PUBLICATION strata FOR ALL TABLES')
    slot = `adv${process.pid}`
    await sql.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot])
    oracle = newPrisma()
    await seedPrecise(oracle)
    const prefix = `advchg${process.pid}`
    a = await instance(prefix)
    b = await instance(prefix)
    await until('one follower', () => following(a) || following(b))
  }, 120_000)

  afterAll(async () => {
    for (const c of [...clients]) await close(c).catch(() => {})
    await oracle?.$disconnect()
    await sql?.end().catch(() => {})
    await drop?.().catch(() => {})
    await server?.stop()
    await redisServer?.stop()
  }, 60_000)

  for (const identity of ['DEFAULT', 'FULL'] as const) {
    describe(`REPLICA IDENTITY ${identity}`, () => {
      beforeAll(async () => {
        for (const t of [
          'accounts',
          'notes',
          'Profile',
          'Shelf',
          'Tag',
          'Group',
          'Pin',
          '_NoteToTag',
          '_AccountToGroup',
        ])
          await sql.query(`ALTER TABLE "${t}" REPLICA IDENTITY ${identity}`)
        await reseed()
      })

      it('a plain UPDATE of predicate fields (tier, mentor, owner, rank, pinned)', async () => {
        await attack(async () => {
          await sql.query(`UPDATE accounts SET tier = 'PRO', mentor_id = 2, active = false WHERE id = 2`)
          await sql.query('UPDATE notes SET owner_id = 2, rank = 7, pinned = true WHERE id = 1')
        })
      })

      it('a transaction with savepoints, one rolled back to', async () => {
        await attack(async () => {
          await run(
            'BEGIN',
            'UPDATE notes SET rank = 5 WHERE id = 3',
            'SAVEPOINT s1',
            `UPDATE accounts SET tier = 'FREE' WHERE id = 1`,
            'ROLLBACK TO SAVEPOINT s1',
            'SAVEPOINT s2',
            'UPDATE notes SET owner_id = 3 WHERE id = 2',
            'RELEASE SAVEPOINT s2',
            'COMMIT',
          )
        })
      })

      it('a multi-statement query (insert, update, delete in one round trip)', async () => {
        await attack(async () => {
          await sql.query(
            `INSERT INTO accounts (id, handle, tier, "updatedAt") VALUES (101, 'eve', 'PRO', now());
             UPDATE notes SET owner_id = 101, kind = 'PRO' WHERE id = 4;
             DELETE FROM "Pin" WHERE "accountId" = 1;`,
          )
        })
      })

      it('COPY FROM into a @@map table', async () => {
        await attack(async () => {
          await sql.query(
            `COPY notes (id, title, owner_id, rank) FROM PROGRAM 'printf "50\\tcopied\\t2\\t7\\n51\\tcopied2\\t101\\t0\\n"'`,
          )
        })
      })

      it('INSERT ... ON CONFLICT DO UPDATE (the update path and the insert path)', async () => {
        await attack(async () => {
          await sql.query(
            `INSERT INTO accounts (handle, tier, mentor_id, "updatedAt") VALUES ('bob', 'PRO', 3, now()), ('dee', 'PRO', 1, now())
             ON CONFLICT (handle) DO UPDATE SET tier = EXCLUDED.tier, mentor_id = EXCLUDED.mentor_id`,
          )
        })
      })

      it('an UPDATE that moves a primary key (cascading to referencing rows)', async () => {
        await attack(async () => {
          await sql.query('UPDATE notes SET id = 100 WHERE id = 3')
          await sql.query(`UPDATE "Tag" SET id = 3 WHERE id = 2`)
        })
      })

      it('an UPDATE of a referenced unique key cascading through foreign keys (handle, shelf)', async () => {
        await attack(async () => {
          await sql.query(`UPDATE accounts SET handle = 'ann2' WHERE handle = 'ann'`)
          await sql.query(`UPDATE "Shelf" SET no = 2 WHERE code = 'A' AND no = 1`)
          await sql.query(`UPDATE accounts SET handle = 'ann' WHERE handle = 'ann2'`)
        })
      })

      it('DELETE with ON DELETE CASCADE / SET NULL', async () => {
        await attack(async () => {
          await sql.query('DELETE FROM accounts WHERE id = 2')
        })
      })

      it('writes to implicit many-to-many join tables', async () => {
        await attack(async () => {
          await sql.query(`INSERT INTO "_NoteToTag" ("A", "B") VALUES (1, 1), (4, 3) ON CONFLICT DO NOTHING`)
          await sql.query(`DELETE FROM "_NoteToTag" WHERE "A" = 100 OR "B" = 1 AND "A" = 2`)
          await sql.query(`INSERT INTO "_AccountToGroup" ("A", "B") VALUES (3, 1) ON CONFLICT DO NOTHING`)
          await sql.query(`UPDATE "_AccountToGroup" SET "A" = 101 WHERE "A" = 1`)
        })
      })

      it('TRUNCATE ... CASCADE of a referenced table', async () => {
        await attack(async () => {
          await sql.query('TRUNCATE "Shelf" CASCADE')
        })
        await reseed()
      })

      it('a large transaction (10,000 rows) mixing inserts, updates and deletes', async () => {
        await attack(async () => {
          await sql.query('BEGIN')
          await sql.query(
            `INSERT INTO notes (id, title, owner_id, rank, kind) SELECT g, 'bulk', 1 + g % 3, g % 8, 'PRO' FROM generate_series(1000, 10999) g`,
          )
          await sql.query('UPDATE notes SET rank = 7 WHERE id BETWEEN 1000 AND 3000')
          await sql.query('DELETE FROM notes WHERE id BETWEEN 5000 AND 6000')
          await sql.query('UPDATE accounts SET tier = $1 WHERE id = 3', ['PRO'])
          await sql.query('COMMIT')
        })
        await sql.query('DELETE FROM notes WHERE id >= 1000')
      })

      it('two transactions interleaved, committed in the opposite order', async () => {
        const other = new pg.Client({ connectionString: url })
        await other.connect()
        try {
          await attack(async () => {
            await sql.query('BEGIN')
            await other.query('BEGIN')
            await sql.query('UPDATE notes SET rank = 7 WHERE id = 1')
            await other.query('UPDATE notes SET rank = 0, owner_id = 3 WHERE id = 2')
            await sql.query(`UPDATE accounts SET tier = 'PRO' WHERE id = 3`)
            await other.query(`INSERT INTO "Tag" (id, name) VALUES (7, 'green')`)
            await other.query('COMMIT')
            await sql.query('COMMIT')
          })
        } finally {
          await other.end()
        }
      })

      it('a long transaction that commits after others were bumped and confirmed', async () => {
        const long = new pg.Client({ connectionString: url })
        await long.connect()
        try {
          await attack(async () => {
            await long.query('BEGIN')
            await long.query(`UPDATE accounts SET tier = 'FREE', mentor_id = 3 WHERE id = 1`)
            for (let i = 0; i < 5; i++) await sql.query('UPDATE notes SET rank = $1 WHERE id = 4', [i])
            await caughtUp()
            await long.query('COMMIT')
          })
        } finally {
          await long.end()
        }
      })

      it('a table of the same name in another schema bumps nothing wrong; the model table still does', async () => {
        await sql.query('CREATE SCHEMA IF NOT EXISTS shadow')
        await sql.query('CREATE TABLE IF NOT EXISTS shadow.accounts (id int PRIMARY KEY, handle text, tier text)')
        await attack(async () => {
          await sql.query(
            `INSERT INTO shadow.accounts VALUES (1, 'ann', 'FREE') ON CONFLICT (id) DO UPDATE SET tier = 'X'`,
          )
          await sql.query(`UPDATE public.accounts SET tier = 'PRO' WHERE id = 2`)
        })
      })

      it('ALTER TABLE ADD COLUMN (with a default and a generated column), RENAME of an unmodelled column, then writes', async () => {
        await attack(async () => {
          await run(
            `ALTER TABLE notes ADD COLUMN IF NOT EXISTS extra text DEFAULT 'x'`,
            'ALTER TABLE notes ADD COLUMN IF NOT EXISTS doubled int GENERATED ALWAYS AS (rank * 2) STORED',
            `UPDATE notes SET rank = 5, extra = 'y' WHERE id = 1`,
            'ALTER TABLE notes RENAME COLUMN extra TO extra2',
            'UPDATE notes SET owner_id = 2 WHERE id = 2',
            'ALTER TABLE notes DROP COLUMN extra2',
            'ALTER TABLE notes DROP COLUMN doubled',
            'UPDATE notes SET pinned = NOT pinned WHERE id = 4',
          )
        })
      })

      it('a large value stored out of line (TOAST) left unchanged by an update of a predicate field', async () => {
        await sql.query(`UPDATE "Profile" SET bio = $1 WHERE id = 1`, ['x'.repeat(100_000)])
        await sql.query('ALTER TABLE "Profile" ALTER COLUMN bio SET STORAGE EXTERNAL')
        await sql.query(`UPDATE "Profile" SET bio = $1 WHERE id = 1`, [
          Array.from({ length: 3000 }, (_, i) => i.toString(36)).join(''),
        ])
        await attack(async () => {
          await sql.query('UPDATE "Profile" SET account_id = 2 WHERE id = 1')
        })
        await sql.query('UPDATE "Profile" SET account_id = 1 WHERE id = 1')
      })
    })
  }

  it('the follower closed while a large transaction is received: the other instance replays it', async () => {
    await warm()
    await sql.query('BEGIN')
    await sql.query(
      `INSERT INTO notes (id, title, owner_id, rank) SELECT g, 'bulk', 2, 7 FROM generate_series(20000, 29999) g`,
    )
    await sql.query(`UPDATE accounts SET tier = 'FREE' WHERE id = 1`)
    await sql.query('COMMIT')
    await handOver()
    // The instance left, or the one that joined: either may take the lease; both must see the transaction.
    await until('an instance to follow again', () => following(a) || following(b))
    expect(await stale()).toEqual([])
    await sql.query('DELETE FROM notes WHERE id >= 20000')
  })

  it('Redis FLUSHALL while following: later outside writes still reach every instance', async () => {
    await warm()
    await flushAll()
    await sql.query(`UPDATE accounts SET tier = 'PRO', active = true WHERE id = 3`)
    await sql.query('UPDATE notes SET owner_id = 3 WHERE id = 1')
    expect(await stale()).toEqual([])
    await until('a follower again', () => following(a) || following(b))
  })

  it('a second prefix on the same slot is reported, not silently served stale', async () => {
    const errors: string[] = []
    const c = await instance(`advchg${process.pid}other${seq++}`, slot, { onError: (e) => errors.push(e.message) })
    try {
      await until('the second prefix to report the busy slot', () => errors.some((m) => /slot|active/.test(m)))
      expect(following(c)).toBe(false)
    } finally {
      await close(c)
    }
  })

  it('a long transaction whose commit comes after the follower handed over (its start was confirmed past)', async () => {
    const long = new pg.Client({ connectionString: url })
    await long.connect()
    try {
      await attack(async () => {
        await long.query('BEGIN')
        await long.query(`UPDATE accounts SET tier = 'PRO', active = false WHERE id = 2`)
        await long.query(`UPDATE notes SET owner_id = 2 WHERE id = 4`)
        for (let i = 0; i < 3; i++) await sql.query('UPDATE notes SET rank = $1 WHERE id = 1', [i])
        await caughtUp()
        await handOver()
        await until('a follower again', () => following(a) || following(b))
        await long.query('COMMIT')
      })
    } finally {
      await long.end()
    }
  })

  it('Redis FLUSHALL, then reads refilled before the next outside write', async () => {
    await warm()
    await flushAll()
    await warm()
    await sql.query(`UPDATE accounts SET tier = 'FREE', mentor_id = 3 WHERE id = 2`)
    await sql.query('UPDATE notes SET rank = 7, pinned = true WHERE id = 2')
    expect(await stale()).toEqual([])
  })

  it('REPLICA IDENTITY USING INDEX on a unique field other than the primary key', async () => {
    await reseed()
    await sql.query('ALTER TABLE accounts REPLICA IDENTITY USING INDEX accounts_handle_key')
    try {
      await attack(async () => {
        await sql.query(`UPDATE accounts SET tier = 'PRO', mentor_id = 2 WHERE id = 3`)
        await sql.query(`UPDATE accounts SET handle = 'bob2', active = false WHERE id = 2`)
        await sql.query(`DELETE FROM accounts WHERE handle = 'dee'`)
      })
    } finally {
      await sql.query('ALTER TABLE accounts REPLICA IDENTITY DEFAULT')
    }
  })

  /**
   * Runs `body` with an instance of its own on `slot`, the shared ones closed meanwhile; then `undo`, and the shared
   * ones are opened again.
   */
  async function aloneOnSlot(
    body: (c: Cached, errors: string[]) => Promise<void>,
    undo: () => Promise<unknown> = async () => {},
  ): Promise<void> {
    try {
      const errors: string[] = []
      const c = await instance(`advchgone${process.pid}x${seq++}`, slot, { onError: (e) => errors.push(e.message) })
      try {
        // The shared instances stop following (their lease is another prefix's): this one takes the slot.
        for (const s of [a, b]) await close(s)
        await body(c, errors)
      } finally {
        await close(c)
      }
    } finally {
      await undo()
      a = await instance(`advchg${process.pid}`)
      b = await instance(`advchg${process.pid}`)
      await until('one follower', () => following(a) || following(b))
    }
  }

  /**
   * What an outside `change` leaves `read` on an instance of its own that follows the slot: whether it converged to
   * the database within `AFTER_CONFIRMED_MS` of the slot confirming the change, and whether an error named `table`.
   */
  async function afterChange(
    change: () => Promise<unknown>,
    read: (p: Raw) => PromiseLike<unknown>,
    table: string,
    undo?: () => Promise<unknown>,
  ): Promise<{ converged: boolean; reported: boolean }> {
    let outcome = { converged: false, reported: false }
    await aloneOnSlot(async (c, errors) => {
      await until('following', () => following(c))
      await caughtUp()
      for (let i = 0; i < 2; i++) await settle(() => read(c))
      await change()
      // Once the slot confirmed the change's position, the follower (this instance) has bumped what it would.
      await caughtUp()
      const converged = await converges(c, read, oracle, AFTER_CONFIRMED_MS)
      outcome = { converged, reported: errors.some((m) => m.includes(table)) }
    }, undo)
    return outcome
  }

  // The known gaps below share one cause: an outside change that never reaches the publication's stream, so a read
  // of the changed model stays stale until its TTL, and nothing is reported. Each is asserted as it stands, not as
  // an expected failure (which also passes when its setup breaks or times out): once a gap is closed, its test
  // fails; make it assert the fix.

  // KNOWN GAP (wrong answer): a migration that rewrites a column's values in place (ALTER COLUMN ... TYPE ... USING)
  // writes no row changes to the stream (logical decoding skips table rewrites), so cached reads of the old values
  // are served until their TTL; neither bumped nor reported.
  it('known gap: ALTER TABLE ... ALTER COLUMN TYPE ... USING rewrites values the follower never sees', async () => {
    const outcome = await afterChange(
      () => sql.query('ALTER TABLE notes ALTER COLUMN rank TYPE integer USING rank + 100'),
      (p) => p.note.findUnique({ where: { id: 1 } }),
      'notes',
    )
    expect(outcome).toEqual({ converged: false, reported: false })
  })

  // Writes to an UNLOGGED table are not in the WAL, so not in the stream, and a publication FOR ALL TABLES leaves
  // such tables out: an instance started while a model's table is UNLOGGED does not follow, and says which table.
  it('a model table UNLOGGED when an instance starts: it does not follow, and names the table', async () => {
    await sql.query('ALTER TABLE "Profile" SET UNLOGGED')
    await aloneOnSlot(
      async (c, errors) => {
        await until('the refusal', () => errors.some((m) => m.includes('does not publish public.Profile')))
        expect(following(c)).toBe(false)
      },
      () => sql.query('ALTER TABLE "Profile" SET LOGGED'),
    )
  })

  // KNOWN GAP (wrong answer): the publication is checked when an instance starts following; a table set UNLOGGED
  // (a common speed-up) after that drops out of the stream without a message, and its outside writes are never seen.
  it('known gap: a model table set UNLOGGED while an instance follows: its writes are never seen', async () => {
    const outcome = await afterChange(
      async () => {
        await sql.query('ALTER TABLE "Profile" SET UNLOGGED')
        await sql.query(`UPDATE "Profile" SET bio = 'changed while unlogged' WHERE id = 1`)
      },
      (p) => p.profile.findUnique({ where: { id: 1 } }),
      'Profile',
      () => sql.query('ALTER TABLE "Profile" SET LOGGED'),
    )
    expect(outcome).toEqual({ converged: false, reported: false })
  })

  /**
   * Tables in the schema `app` (the adapter's `schema` option), followed with `changes.postgres.connectionString` =
   * the database URL plus `suffix`: whether an outside update reaches the cached read, and what was reported.
   */
  async function appSchema(suffix: string): Promise<{ converged: boolean; errors: string[] }> {
    const errors: string[] = []
    const other = await newPostgresDatabase(server.url, 'advchgapp')
    const admin = new pg.Client({ connectionString: other.url })
    await admin.connect()
    const appSlot = `advapp${process.pid}`
    let c: Cached | undefined
    let appOracle: Raw | undefined
    try {
      await admin.query('CREATE SCHEMA app')
      await createTables('postgres', `${other.url}?options=-c%20search_path%3Dapp`, {
        path: schemaPath,
        content: readFileSync(schemaPath, 'utf8'),
      })
      await admin.query('CREATE PUBLICATION strata FOR ALL TABLES')
      await admin.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [appSlot])
      const appPrisma = () =>
        new PrismaClient({
          adapter: new PrismaPg({ connectionString: other.url }, { schema: 'app' }),
        }) as unknown as Raw
      appOracle = appPrisma()
      await appOracle.account.create({ data: { id: 1, handle: 'ann' } })
      c = appPrisma().$extends(
        cache({
          redis: redisServer.url,
          prefix: `advchgapp${process.pid}x${seq++}`,
          onError: (e) => errors.push(e.message),
          changes: { postgres: { connectionString: `${other.url}${suffix}`, slot: appSlot }, leaseTimeout: 1000 },
        }),
      ) as unknown as Cached
      clients.push(c)
      const refused = () => errors.some((m) => m.includes('cannot follow changes'))
      await until('following, or a refusal', () => following(c as Cached) || refused())
      if (refused()) return { converged: false, errors }
      const read = (p: Raw) => p.account.findUnique({ where: { id: 1 } })
      for (let i = 0; i < 2; i++) await settle(() => read(c as Cached))
      await admin.query(`UPDATE app.accounts SET tier = 'PRO' WHERE id = 1`)
      expect(await settle(() => read(appOracle as Raw))).toContain('PRO')
      return { converged: await converges(c, read, appOracle), errors }
    } finally {
      if (c) await close(c)
      await appOracle?.$disconnect()
      await dropSlot(admin, appSlot)
      await admin.end()
      await other.drop()
    }
  }

  it("tables in a schema other than public, named by the connection string's schema= (as the README says)", async () => {
    expect((await appSchema('?schema=app')).converged).toBe(true)
  })

  // Was a silent misconfiguration (found by this suite): Prisma 7's PostgreSQL adapter takes the schema as an option
  // (`new PrismaPg({ connectionString }, { schema: 'app' })`), so the URL a user hands to `changes` names none; the
  // follower resolved the models' tables in `public`, where none of them exists, and followed nothing of `app`
  // without a word. It now refuses to start, saying which tables are not published and where to name the schema.
  it('the adapter names the schema, the changes URL does not: refused at start, saying so', async () => {
    const { converged, errors } = await appSchema('')
    expect(converged).toBe(false)
    expect(errors.some((m) => /does not publish public\.accounts.*\?schema=/s.test(m))).toBe(true)
  })

  // KNOWN GAP (wrong answer): during a rolling deploy, an instance still on the old Prisma schema (without the model
  // `Note`) may hold the prefix's lease: it maps the table `notes` to no model, bumps nothing, and confirms the
  // position, so the new instances keep serving stale notes for good. The lease is one per prefix whatever the
  // schema; nothing is reported.
  it('known gap: an instance of an older schema (without the changed model) follows the slot for the prefix', async () => {
    const mixedSlot = `advmix${process.pid}`
    await sql.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [mixedSlot])
    const prefix = `advchgmix${process.pid}`
    const errors: string[] = []
    // A lease far longer than the test: the old instance keeps it however loaded the machine (a lapse would hand the
    // slot to the current instance, which is another scenario).
    const changes = { postgres: { connectionString: url, slot: mixedSlot }, leaseTimeout: 60_000 }
    const old = olderSchema().$extends(
      cache({ redis: redisServer.url, prefix, onError: (e) => errors.push(e.message), changes }),
    )
    let current: Cached | undefined
    try {
      await until('the old instance to follow', () => old.$cache.stats().changes?.following === true)
      current = await instance(prefix, mixedSlot, { onError: (e) => errors.push(e.message), changes })
      await caughtUp(mixedSlot)
      const read = (p: Raw) => p.note.findUnique({ where: { id: 1 } })
      for (let i = 0; i < 2; i++) await settle(() => read(current as Cached))
      await sql.query('UPDATE notes SET title = title || $1 WHERE id = 1', ['!'])
      await caughtUp(mixedSlot)
      // The old instance confirmed the change's position: any bump it made reaches this one within the staleness bound.
      const converged = await converges(current as Cached, read, oracle, AFTER_CONFIRMED_MS)
      // As for the other gaps: nothing names the model or its table. (A Redis call that timed out on a loaded machine is
      // reported too, and says nothing about the gap.)
      const reported = errors.some((m) => m.toLowerCase().includes('note'))
      expect({ converged, reported }).toEqual({ converged: false, reported: false })
      expect(old.$cache.stats().changes?.following).toBe(true)
    } finally {
      if (current) await close(current)
      await old.$cache.close()
      await old.$disconnect()
      await dropSlot(sql, mixedSlot)
    }
  })

  it('a slot missing at start is reported, and followed once it is created', async () => {
    const lateSlot = `advlate${process.pid}`
    const errors: string[] = []
    const c = await instance(`advchglate${process.pid}`, lateSlot, { onError: (e) => errors.push(e.message) })
    try {
      await until('the missing slot to be reported', () =>
        errors.some((m) => m.includes(`"${lateSlot}" does not exist`)),
      )
      await sql.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [lateSlot])
      await until('following', () => following(c))
      const read = (p: Raw) => p.account.findUnique({ where: { id: 1 } })
      for (let i = 0; i < 2; i++) await settle(() => read(c))
      await sql.query(`UPDATE accounts SET active = NOT active WHERE id = 1`)
      expect(await converges(c, read)).toBe(true)
    } finally {
      await close(c)
      await dropSlot(sql, lateSlot)
    }
  })

  /** Follows a publication made by `create` (named adv_partial) on a slot of its own; whether an update of notes shows. */
  async function partialPublication(create: string): Promise<{ converged: boolean; errors: string[] }> {
    await sql.query(create)
    const partialSlot = `advp${process.pid}x${seq++}`
    await sql.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [partialSlot])
    const errors: string[] = []
    const c = newPrisma().$extends(
      cache({
        redis: redisServer.url,
        prefix: `advchgpart${process.pid}x${seq++}`,
        onError: (e) => errors.push(e.message),
        changes: {
          postgres: { connectionString: url, slot: partialSlot, publication: 'adv_partial' },
          leaseTimeout: 1000,
        },
      }),
    ) as unknown as Cached
    clients.push(c)
    try {
      const refused = () => errors.some((m) => m.includes('cannot follow changes'))
      await until('following, or a refusal', () => following(c) || refused())
      if (refused()) return { converged: false, errors }
      await caughtUp(partialSlot)
      const read = (p: Raw) => p.note.findUnique({ where: { id: 1 } })
      for (let i = 0; i < 2; i++) await settle(() => read(c))
      await sql.query('UPDATE notes SET rank = rank + 1 WHERE id = 1')
      return { converged: await converges(c, read), errors }
    } finally {
      await close(c)
      await dropSlot(sql, partialSlot)
      await sql.query('DROP PUBLICATION adv_partial')
    }
  }

  // Were wrong answers (found by this suite): a publication that left out a table, or published inserts only, was
  // accepted without a word (only its existence was checked), so outside writes to that table, or every update,
  // stayed stale on every instance until the entry's TTL. The follower now refuses to start and says what is missing.
  it('a publication without a table is refused at start, naming the table', async () => {
    const { converged, errors } = await partialPublication('CREATE PUBLICATION adv_partial FOR TABLE accounts')
    expect(converged).toBe(false)
    expect(errors.some((m) => /does not publish .*public\.notes/.test(m))).toBe(true)
  })

  it("a publication with publish = 'insert' is refused at start, naming what it leaves out", async () => {
    const { converged, errors } = await partialPublication(
      `CREATE PUBLICATION adv_partial FOR ALL TABLES WITH (publish = 'insert')`,
    )
    expect(converged).toBe(false)
    expect(errors.some((m) => m.includes('does not publish update, delete, truncate'))).toBe(true)
  })
})
