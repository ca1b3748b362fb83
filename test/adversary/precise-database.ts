// The precise-invalidation adversary's databases and clients (test/adversary/precise-models.prisma): a database per
// world holding the seed (seedPrecise), an uncached client (the oracle) and cached clients on a Redis prefix of the
// world's own. Each test file makes and seeds one template database per provider; a world's database is then a copy
// of it (a file copy on SQLite) or, on PostgreSQL, a database of an earlier world of the file put back to the seeded
// rows (test/support/postgres-snapshot.ts), or a new copy (`CREATE DATABASE ... TEMPLATE`) when none is free: a suite
// that wants a clean, seeded database for each of hundreds of attacks then spends milliseconds, not seconds, on each.

import { readFileSync } from 'node:fs'
import { copyFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { type CacheOptions, cache } from 'prisma-strata'
import { afterAll, afterEach } from 'vitest'
import { PrismaClient as PgClient } from '../../generated/adversary-precise/postgres/client/client.ts'
import { PrismaClient as LiteClient } from '../../generated/adversary-precise/sqlite/client/client.ts'
import { createTables, newPostgresDatabase, sealTemplate } from '../../prisma/database.ts'
import { type Snapshot, snapshot } from '../support/postgres-snapshot.ts'
import { postgresUrl, redisUrl } from '../support/services.ts'

const here = dirname(fileURLToPath(import.meta.url))

export type Provider = 'sqlite' | 'postgres'
export type Raw = LiteClient
const extend = (c: Raw, o: CacheOptions) => c.$extends(cache(o))
export type Cached = Raw & { $cache: ReturnType<typeof extend>['$cache'] }

let seq = 0

interface Template {
  copy: string
  drop(): Promise<void>
  /** PostgreSQL: how a copy goes back to the seeded rows, and the schema a copy must still have to be reused. */
  saved?: { snapshot: Snapshot; fingerprint: string }
}
interface PostgresDatabase {
  url: string
  drop(): Promise<void>
  /**
   * Prisma clients of this database left connected by its earlier worlds, for the next one: a new client pays for
   * its connections and for planning every query shape again, which was most of what each attack cost.
   */
  clients: Raw[]
}

/** Drops a database no world may get again, with the clients kept for it. */
async function discard(db: PostgresDatabase): Promise<void> {
  for (const client of db.clients.splice(0)) await client.$disconnect().catch(() => {})
  await db.drop()
}

/** The seeded database each world's copies, per provider: made on first use, dropped when the test file ends. */
const templates = new Map<Provider, Promise<Template>>()
/** PostgreSQL databases of closed worlds, their schema untouched: the next world restores one instead of copying. */
const idle: PostgresDatabase[] = []
/** Those released during the running test. */
const releasedInTest: PostgresDatabase[] = []
/**
 * Registers the hooks that clean up after `preciseWorld` in the calling test file: call it at the file's top. (A
 * worker runs many files in one process, and this module is evaluated once in it: hooks registered when it loads
 * would belong to the first file that imported it alone, and the next file's databases would never be dropped.)
 * A test that failed (a timeout) may still be running and write again (a Prisma client reconnects after
 * $disconnect): the databases it released are dropped, not reused. The test file's own afterEach, registered after
 * this one, closes its worlds first (hooks run in stack order).
 */
export function usePreciseDatabases(): void {
  registered = true
  afterEach(async (context) => {
    const released = releasedInTest.splice(0)
    if (context.task.result?.state !== 'fail') return
    for (const db of released) {
      const i = idle.indexOf(db)
      if (i >= 0) idle.splice(i, 1)
      await discard(db)
    }
  })
  afterAll(async () => {
    for (const db of idle.splice(0)) await discard(db)
    for (const template of templates.values()) await (await template).drop()
    templates.clear()
    registered = false
  })
}
/** Whether the running test file called `usePreciseDatabases`. */
let registered = false

async function seedWith(client: Raw): Promise<void> {
  try {
    await seedPrecise(client)
  } finally {
    await client.$disconnect()
  }
}

function template(provider: Provider): Promise<Template> {
  let made = templates.get(provider)
  if (!made) {
    const path = join(here, '..', '..', 'generated', 'adversary-precise', provider, 'schema.prisma')
    const file = { path, content: readFileSync(path, 'utf8') }
    made = (async (): Promise<Template> => {
      if (provider === 'sqlite') {
        const db = join(tmpdir(), `advp-template-${process.pid}-${Date.now()}.db`)
        await createTables('sqlite', `file:${db}`, file)
        await seedWith(new LiteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${db}` }) }))
        return { copy: db, drop: () => rm(db, { force: true }) }
      }
      const server = await postgresUrl()
      const created = await newPostgresDatabase(server, 'advp_template')
      await createTables('postgres', created.url, file)
      await seedWith(new PgClient({ adapter: new PrismaPg({ connectionString: created.url }) }) as unknown as Raw)
      const saved = await snapshot(created.url)
      const fingerprint = await saved.fingerprint(created.url)
      await sealTemplate(server, created.name)
      return { copy: created.name, drop: created.drop, saved: { snapshot: saved, fingerprint } }
    })()
    templates.set(provider, made)
  }
  return made
}

/**
 * A seeded PostgreSQL database of the file's own: `client()` gives a Prisma client of it (one an earlier world left
 * connected, or a new one), and `release()` gives the database and those clients back when the world closes.
 */
async function postgresDatabase(): Promise<{ client(): Raw; release(): Promise<void> }> {
  const { copy, saved } = await template('postgres')
  const { snapshot: rows, fingerprint } = saved as NonNullable<Template['saved']>
  const reused = idle.pop()
  if (reused) await rows.restore(reused.url)
  const db = reused ?? { ...(await newPostgresDatabase(await postgresUrl(), 'advp', copy)), clients: [] }
  const taken: Raw[] = []
  return {
    client() {
      const client = db.clients.pop() ?? (new PgClient({ adapter: new PrismaPg({ connectionString: db.url }) }) as Raw)
      taken.push(client)
      return client
    },
    release: async () => {
      db.clients.push(...taken)
      // A test that changed the schema (a trigger, a table) leaves a database no other test may get.
      if ((await rows.fingerprint(db.url)) !== fingerprint) return discard(db)
      idle.push(db)
      releasedInTest.push(db)
    },
  }
}

export interface PreciseWorld {
  raw: Raw
  prisma: Cached
  prefix: string
  /** Another cached client on the same database and prefix. */
  instance(o?: CacheOptions, below?: (c: Raw) => unknown): Promise<Cached>
  close(): Promise<void>
}

/** A world on a database holding the seed (seedPrecise), clients on a Redis prefix no other world uses. */
export async function preciseWorld(provider: Provider, options: CacheOptions = {}): Promise<PreciseWorld> {
  if (!registered)
    throw new Error('call usePreciseDatabases() at the top of the test file: nothing would drop its databases')
  let client: () => Raw
  let release: () => Promise<void>
  if (provider === 'sqlite') {
    const { copy } = await template(provider)
    const db = join(tmpdir(), `advp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.db`)
    await copyFile(copy, db)
    const clients: Raw[] = []
    client = () => {
      const made = new LiteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${db}` }) })
      clients.push(made)
      return made
    }
    release = async () => {
      for (const made of clients) await made.$disconnect().catch(() => {})
      await rm(db, { force: true })
    }
  } else {
    const db = await postgresDatabase()
    client = db.client
    release = db.release
  }
  const url = await redisUrl()
  const prefix = `advp${process.pid}x${Date.now().toString(36)}x${seq++}`
  const closers: Array<() => Promise<void>> = []
  // `below`: extensions applied to the client before the cache (result extensions, for example).
  const make = async (o: CacheOptions = {}, below: (c: Raw) => unknown = (c) => c) => {
    const merged: CacheOptions = { redis: url, prefix, onError: () => {}, ...options, ...o }
    const c = extend(below(client()) as Raw, merged)
    closers.push(() => c.$cache.close())
    if (merged.redis) await c.$cache.whenReady(5000)
    return c as unknown as Cached
  }
  const raw = client()
  const prisma = await make()
  return {
    raw,
    prisma,
    prefix,
    instance: make,
    async close() {
      for (const c of closers) await c().catch(() => {})
      await release()
    },
  }
}

/** Accounts 1..3 (2 and 3 mentored by 1, 3 buddy of ann), notes of accounts 1 and 2, a shelf, tags, groups, pins. */
export async function seedPrecise(p: Raw) {
  await p.account.create({ data: { id: 1, handle: 'ann', tier: 'PRO', karma: 9007199254740993n } })
  await p.account.create({ data: { id: 2, handle: 'bob', mentorId: 1 } })
  await p.account.create({ data: { id: 3, handle: 'cyd', mentorId: 1, buddyHandle: 'ann', active: false } })
  await p.profile.create({ data: { id: 1, accountId: 1, bio: 'first' } })
  await p.shelf.create({ data: { code: 'A', no: 1, label: 'top' } })
  await p.tag.createMany({
    data: [
      { id: 1n, name: 'red' },
      { id: 2n, name: 'blue' },
    ],
  })
  await p.group.create({ data: { id: 1, name: 'g1', accounts: { connect: [{ id: 1 }, { id: 2 }] } } })
  await p.note.create({ data: { id: 1, title: 'a', ownerId: 1, ownerHandle: 'ann', shelfCode: 'A', shelfNo: 1 } })
  await p.note.create({ data: { id: 2, title: 'z', ownerId: 1, rank: 5, tags: { connect: [{ id: 1n }] } } })
  await p.note.create({ data: { id: 3, title: 'm', ownerId: 2, ownerHandle: 'bob', pinned: true, kind: 'PRO' } })
  await p.note.create({ data: { id: 4, title: 'orphan' } })
  await p.pin.create({ data: { accountId: 1, noteId: 3 } })
  for (const table of ['accounts', 'notes', 'Profile', 'Group'])
    await p.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), 100)`).catch(() => {})
}

/** A read an attack checks: its name in failures, and the call (made on the cached client and on the oracle). */
export type Read = [name: string, read: (p: Raw) => PromiseLike<unknown>]

// biome-ignore lint/suspicious/noExplicitAny: attacks use the full client API (fluent calls, raw, transactions)
export const any = (p: unknown) => p as any

export function show(v: unknown): string {
  return (
    JSON.stringify(v, function (this: Record<string, unknown>, k, x) {
      const o = k === '' ? v : this[k]
      if (typeof o === 'bigint') return `${o}n`
      if (o instanceof Date) return `Date(${o.toISOString()})`
      if (o === undefined) return 'undefined'
      return x
    }) ?? String(v)
  )
}

/** The answer of `read`, or the last line of the error it throws. */
export async function settle(read: () => PromiseLike<unknown>): Promise<string> {
  try {
    return show(await read())
  } catch (e) {
    return `throws ${String((e as Error).message)
      .split('\n')
      .at(-1)}`
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
