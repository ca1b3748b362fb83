// The adversary's databases and clients: one fresh database per call (SQLite via schemaPush, PostgreSQL via diff),
// the view created by hand, an uncached client (the oracle) and cached clients on one Redis prefix.
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { type CacheOptions, cache } from 'prisma-strata'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { PrismaClient as PgClient } from '../../generated/adversary/postgres/client/client.ts'
import { PrismaClient as LiteClient } from '../../generated/adversary/sqlite/client/client.ts'
import { createTables, newPostgresDatabase } from '../../prisma/database.ts'
import { type CountingAdapter, countingAdapter } from '../support/counting-adapter.ts'
import { postgresUrl, redisUrl } from '../support/services.ts'

const here = dirname(fileURLToPath(import.meta.url))

export type Provider = 'sqlite' | 'postgres'
export type Raw = LiteClient

const schemaFile = (p: Provider) => {
  const path = join(here, '..', '..', 'generated', 'adversary', p, 'schema.prisma')
  return { path, content: readFileSync(path, 'utf8') }
}
const view = `CREATE VIEW "team_sizes" AS SELECT "org_code", CAST(COUNT(*) AS INTEGER) AS "members" FROM "members" GROUP BY "org_code"`

export interface Db {
  provider: Provider
  adapter(): unknown
  /** Runs SQL outside Prisma (another application writing the database). */
  exec(sql: string): Promise<void>
  drop(): Promise<void>
}

export async function newDb(provider: Provider): Promise<Db> {
  if (provider === 'sqlite') {
    const file = join(tmpdir(), `adv-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.db`)
    const url = `file:${file}`
    await createTables('sqlite', url, schemaFile('sqlite'))
    const c = await new PrismaBetterSqlite3({ url }).connect()
    await c.executeScript(`${view};`)
    await c.dispose()
    return {
      provider,
      adapter: () => new PrismaBetterSqlite3({ url }),
      async exec(sql) {
        const conn = await new PrismaBetterSqlite3({ url }).connect()
        await conn.executeScript(sql)
        await conn.dispose()
      },
      async drop() {
        const { rm } = await import('node:fs/promises')
        await rm(file, { force: true })
      },
    }
  }
  const created = await newPostgresDatabase(await postgresUrl(), 'adv')
  const url = created.url
  await createTables('postgres', url, schemaFile('postgres'))
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    await c.query(sql)
    await c.end()
  }
  await run(view)
  return {
    provider,
    adapter: () => new PrismaPg({ connectionString: url }),
    exec: run,
    drop: created.drop,
  }
}

export function client(provider: Provider, adapter: unknown, extra: Record<string, unknown> = {}): Raw {
  const C = (provider === 'sqlite' ? LiteClient : PgClient) as unknown as new (o: object) => Raw
  return new C({ adapter, ...extra })
}

const extend = (c: Raw, o: CacheOptions) => c.$extends(cache(o))
/** A cached client as the attacks use it: Prisma's model API (per-query `cache` arguments are cast) and `$cache`. */
export type Cached = Raw & { $cache: ReturnType<typeof extend>['$cache'] }

let seq = 0
export interface World {
  db: Db
  raw: Raw
  prisma: Cached
  counting: CountingAdapter<unknown>
  prefix: string
  redis: string | undefined
  /** Another cached instance on the same database and prefix. */
  instance(o?: CacheOptions, clientOptions?: Record<string, unknown>): Promise<Cached>
  close(): Promise<void>
}

/** The oracle and the counted client the cache goes on, which a stage keeps connected from world to world. */
export interface Below {
  raw: Raw
  counting: CountingAdapter<unknown>
  cached: Raw
}

function below(provider: Provider, db: Db): Below {
  const counting = countingAdapter(db.adapter() as never) as CountingAdapter<unknown>
  return { raw: client(provider, db.adapter()), counting, cached: client(provider, counting.adapter) }
}

async function disconnect(kept: Below): Promise<void> {
  for (const c of [kept.raw, kept.cached]) await c.$disconnect().catch(() => {})
}

/**
 * A database with the oracle and a cached client; `redis` true for the shared Redis, a URL for a throwaway one.
 * `kept`: the clients to use (a stage's), left connected when the world closes.
 */
export async function world(
  provider: Provider,
  options: CacheOptions = {},
  redis: boolean | string = true,
  db?: Db,
  kept?: Below,
): Promise<World> {
  const d = db ?? (await newDb(provider))
  const url = redis === true ? await redisUrl() : redis === false ? undefined : redis
  const prefix = `adv${process.pid}x${Date.now().toString(36)}x${seq++}`
  const closers: Array<() => Promise<void>> = []
  const make = async (o: CacheOptions = {}, clientOptions: Record<string, unknown> = {}, base?: Raw) => {
    const c = extend(base ?? client(provider, d.adapter(), clientOptions), {
      ...(url ? { redis: url } : {}),
      prefix,
      onError: () => {},
      ...options,
      ...o,
    })
    closers.push(async () => {
      await c.$cache.close()
      if (!base) await c.$disconnect()
    })
    if (url) await c.$cache.whenReady(5000)
    return c as unknown as Cached
  }
  const clients = kept ?? below(provider, d)
  clients.counting.reset()
  const prisma = await make({}, {}, clients.cached)
  return {
    db: d,
    raw: clients.raw,
    prisma,
    counting: clients.counting,
    prefix,
    redis: url,
    instance: (o, co) => make(o, co),
    async close() {
      for (const c of closers) await c().catch(() => {})
      if (!kept) await disconnect(clients)
      if (!db) await d.drop()
    },
  }
}

/** Base rows: two orgs, teams, members with mentors and badges, projects, tasks, skills. */
export async function seed(p: Raw) {
  await p.org.create({ data: { code: 'none', name: 'none' } })
  await p.team.create({ data: { orgCode: 'none', slug: 'none', title: 'none' } })
  await p.org.create({
    data: {
      code: 'acme',
      name: 'Acme',
      tier: 'PRO',
      budget: '12.50',
      teams: {
        create: [
          { slug: 'core', title: 'Core' },
          { slug: 'web', title: 'Web' },
        ],
      },
    },
  })
  await p.org.create({ data: { code: 'init', name: 'Initech', teams: { create: [{ slug: 'core', title: 'Core' }] } } })
  await p.skill.createMany({ data: [{ name: 'ts' }, { name: 'sql' }, { name: 'lua' }] })
  await p.member.create({
    data: {
      id: 1,
      handle: 'ann',
      orgCode: 'acme',
      teamOrg: 'acme',
      teamSlug: 'core',
      karma: 9007199254740993n,
      score: 1.5,
      badge: { create: { label: 'lead', icon: new Uint8Array([1, 2, 3]), meta: { a: [1, { b: null }] } } },
      skills: { create: [{ skillName: 'ts', level: 3 }, { skillName: 'sql' }] },
    },
  })
  await p.member.create({
    data: { id: 2, handle: 'bob', orgCode: 'acme', teamOrg: 'acme', teamSlug: 'web', mentorId: 1 },
  })
  await p.member.create({
    data: { id: 3, handle: 'cyd', orgCode: 'init', teamOrg: 'init', teamSlug: 'core', mentorId: 2 },
  })
  await p.project.create({
    data: {
      id: 1,
      name: 'rocket',
      teamOrg: 'acme',
      teamSlug: 'core',
      cost: '100.01',
      members: { connect: [{ id: 1 }, { id: 2 }] },
      tasks: { create: [{ id: 1, title: 'design' }] },
    },
  })
  await p.task.create({ data: { id: 2, title: 'sub', projectId: 1, parentId: 1 } })
  await p.task.create({ data: { id: 3, title: 'subsub', projectId: 1, parentId: 2 } })
  // Rows above were created with explicit ids: move PostgreSQL's sequences past them (SQLite needs nothing).
  for (const table of ['members', 'projects', 'tasks'])
    await p.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), 100)`).catch(() => {})
  await p.project.create({
    data: { id: 2, name: 'web', teamOrg: 'acme', teamSlug: 'web', members: { connect: [{ id: 2 }] } },
  })
}

/** The reads compared after every attack: each model, through relations both ways, counts, aggregates, the view. */
export function reads(p: Raw): Array<[string, () => Promise<unknown>]> {
  return [
    ['orgs', () => p.org.findMany({ orderBy: { code: 'asc' } })],
    [
      'orgs+teams+members',
      () =>
        p.org.findMany({
          orderBy: { code: 'asc' },
          include: { teams: { orderBy: { slug: 'asc' } }, members: { orderBy: { id: 'asc' } }, _count: true },
        }),
    ],
    ['teams', () => p.team.findMany({ orderBy: [{ orgCode: 'asc' }, { slug: 'asc' }] })],
    [
      'teams+projects',
      () =>
        p.team.findMany({
          orderBy: [{ orgCode: 'asc' }, { slug: 'asc' }],
          include: { projects: { orderBy: { id: 'asc' } }, _count: { select: { members: true } } },
        }),
    ],
    ['team by compound id', () => p.team.findUnique({ where: { orgCode_slug: { orgCode: 'acme', slug: 'core' } } })],
    ['members', () => p.member.findMany({ orderBy: { id: 'asc' } })],
    [
      'members+badge+mentor+mentees',
      () =>
        p.member.findMany({
          orderBy: { id: 'asc' },
          include: { badge: true, mentor: true, mentees: { orderBy: { id: 'asc' } } },
        }),
    ],
    [
      'member 1 full',
      () =>
        p.member.findUnique({
          where: { id: 1 },
          include: {
            team: true,
            org: true,
            projects: { orderBy: { id: 'asc' } },
            skills: { orderBy: { skillName: 'asc' } },
          },
        }),
    ],
    ['member by handle', () => p.member.findUnique({ where: { handle: 'bob' } })],
    [
      'members with team',
      () => p.member.findMany({ where: { team: { is: { title: 'Core' } } }, orderBy: { id: 'asc' } }),
    ],
    [
      'members with skills ts',
      () => p.member.findMany({ where: { skills: { some: { skillName: 'ts' } } }, orderBy: { id: 'asc' } }),
    ],
    ['member count', () => p.member.count()],
    ['members without mentor', () => p.member.count({ where: { mentorId: null } })],
    ['badges', () => p.badge.findMany({ orderBy: { memberId: 'asc' } })],
    ['badge 1', () => p.badge.findUnique({ where: { memberId: 1 } })],
    ['badges+member', () => p.badge.findMany({ orderBy: { memberId: 'asc' }, include: { member: true } })],
    ['projects', () => p.project.findMany({ orderBy: { id: 'asc' } })],
    [
      'projects+members+tasks',
      () =>
        p.project.findMany({
          orderBy: { id: 'asc' },
          include: { members: { orderBy: { id: 'asc' } }, tasks: { orderBy: { id: 'asc' } }, team: true },
        }),
    ],
    ['project 1', () => p.project.findUnique({ where: { id: 1 } })],
    ['tasks', () => p.task.findMany({ orderBy: { id: 'asc' } })],
    [
      'tasks tree',
      () =>
        p.task.findMany({
          where: { parentId: null },
          orderBy: { id: 'asc' },
          include: { children: { include: { children: true } } },
        }),
    ],
    ['task agg', () => p.task.aggregate({ _count: { _all: true }, _max: { id: true } })],
    [
      'skills',
      () => p.skill.findMany({ orderBy: { name: 'asc' }, include: { members: { orderBy: { memberId: 'asc' } } } }),
    ],
    ['member skills', () => p.memberSkill.findMany({ orderBy: [{ memberId: 'asc' }, { skillName: 'asc' }] })],
    [
      'member skill compound',
      () => p.memberSkill.findUnique({ where: { memberId_skillName: { memberId: 1, skillName: 'ts' } } }),
    ],
    [
      'groupBy members',
      () => p.member.groupBy({ by: ['orgCode'], _count: { _all: true }, orderBy: { orgCode: 'asc' } }),
    ],
    ['project cost sum', () => p.project.aggregate({ _sum: { cost: true } })],
    ['view', () => p.teamSize.findMany({ orderBy: { orgCode: 'asc' } })],
  ]
}

/** Every read answered by `cached` compared with the oracle: the names of those that differ. */
export async function diff(cached: unknown, raw: Raw): Promise<string[]> {
  const a = reads(cached as Raw)
  const b = reads(raw)
  const out: string[] = []
  for (let i = 0; i < a.length; i++) {
    const [name, read] = a[i] as [string, () => Promise<unknown>]
    const [got, want] = await Promise.all([settle(read), settle(b[i]?.[1] as () => Promise<unknown>)])
    if (!same(got, want)) out.push(`${name}: strata ${show(got)} prisma ${show(want)}`)
  }
  return out
}

async function settle(f: () => Promise<unknown>) {
  try {
    return { ok: await f() }
  } catch (e) {
    return {
      err: String((e as Error).message)
        .split('\n')
        .at(-1),
    }
  }
}

export function show(v: unknown): string {
  return (
    JSON.stringify(v, function (this: Record<string, unknown>, k, x) {
      const o = k === '' ? v : this[k]
      if (typeof o === 'bigint') return `${o}n`
      if (o instanceof Date) return `Date(${Number.isNaN(o.getTime()) ? 'NaN' : o.toISOString()})`
      if (o instanceof Uint8Array) return `Bytes(${[...o]})`
      if (o && typeof o === 'object' && o.constructor?.name === 'Decimal') return `Decimal(${String(o)})`
      if (typeof o === 'function') return 'function'
      if (o === undefined) return 'undefined'
      return x
    })?.slice(0, 600) ?? String(v)
  )
}
export const same = (a: unknown, b: unknown) => show(a) === show(b)

/** Warms the cache: every read, twice (the second from the cache). */
export async function warm(cached: unknown) {
  for (const [, read] of reads(cached as Raw)) await read().catch(() => {})
  for (const [, read] of reads(cached as Raw)) await read().catch(() => {})
}

/** Empties every table (outside the cache: the next world uses a new prefix). */
export async function reset(db: Db) {
  const tables = [
    '_ProjectMembers',
    'member_skills',
    'tasks',
    'projects',
    'badges',
    'members',
    'teams',
    'orgs',
    'Skill',
  ]
  if (db.provider === 'postgres')
    await db.exec(`TRUNCATE ${tables.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY CASCADE`)
  else await db.exec(tables.map((t) => `DELETE FROM "${t}";`).join('\n'))
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Polls `read` until it equals the oracle's answer (errors compared by their last line), or fails after `ms`: what
 * another instance serves once the bus has carried a write. 2.5 s is well past the default staleness bound (1 s).
 */
export async function converges(read: () => Promise<unknown>, oracle: () => Promise<unknown>, ms = 2500) {
  const settle = (p: Promise<unknown>) => p.catch((e) => `throws ${String(e).split('\n').at(-1)}`)
  const end = Date.now() + ms
  let got: unknown
  let want: unknown
  do {
    got = await settle(read())
    want = await settle(oracle())
    if (same(got, want)) return
    await sleep(50)
  } while (Date.now() < end)
  expect(show(got)).toEqual(show(want))
}

/**
 * One database for the describe (or file) it is called in, and the world of its current test: `fresh(options)`
 * closes the last world, empties and seeds the database and opens a new world on it; `cur()` is that world. Call it after
 * the suite's own hooks that the worlds depend on (a throwaway Redis): its `afterAll` then runs before theirs. The
 * oracle and the client below the cache stay connected from world to world: new Prisma clients pay for their
 * connections and for planning every query shape again, which was most of what a short attack cost.
 */
export function stage(provider: Provider, setup: { redis?: () => string; defaults?: CacheOptions } = {}) {
  let db: Db | undefined
  let w: World | undefined
  let kept: Below | undefined
  const release = async () => {
    if (kept) await disconnect(kept)
    kept = undefined
  }
  beforeAll(async () => {
    db = await newDb(provider)
  })
  // A test that failed (a timeout) may still be running on the kept clients: the next world gets new ones, so what it
  // sends later is not counted as another test's.
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await release()
  })
  afterAll(async () => {
    await w?.close()
    await release()
    await db?.drop()
  })
  const database = (): Db => {
    if (!db) throw new Error('no database yet: stage() makes it in beforeAll')
    return db
  }
  return {
    db: database,
    cur(): World {
      if (!w) throw new Error('no world: call fresh() first')
      return w
    },
    /** `prepare` runs on the seeded database before the world's clients exist (SQL a test needs in place). */
    async fresh(options: CacheOptions = {}, prepare?: (db: Db) => Promise<void>): Promise<World> {
      await w?.close()
      w = undefined
      const db = database()
      await reset(db)
      kept ??= below(provider, db)
      await seed(kept.raw)
      if (prepare) {
        // SQL a test puts in place (views, triggers) comes before any client of its world: the kept ones go.
        await release()
        await prepare(db)
      }
      w = await world(provider, { ...setup.defaults, ...options }, setup.redis?.() ?? true, db, kept)
      return w
    },
  }
}
