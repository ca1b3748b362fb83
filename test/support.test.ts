// The test harness itself: the services resolve, and the counting adapter counts what reaches the database.
import { PrismaMariaDb } from '@prisma/adapter-mariadb'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrismaClient as MysqlClient } from '../generated/mysql/client/client.ts'
import { PrismaClient as PostgresClient } from '../generated/postgres/client/client.ts'
import { PrismaClient as SqliteClient } from '../generated/sqlite/client/client.ts'
import {
  createMysqlDatabase,
  createPostgresDatabase,
  createSqliteDatabase,
  type TestDatabase,
} from '../prisma/database.ts'
import { countingAdapter } from './support/counting-adapter.ts'
import { mysqlUrl, postgresUrl, redisUrl, startMariadbServer, startRedisServer } from './support/services.ts'

// Both generated clients have the same model API for this model; one type keeps the suite provider-agnostic.
type Client = SqliteClient

const providers = {
  sqlite: {
    database: () => createSqliteDatabase(),
    client: (adapter: ReturnType<TestDatabase['adapter']>) => new SqliteClient({ adapter }),
  },
  postgres: {
    database: async () => createPostgresDatabase(await postgresUrl()),
    client: (adapter: ReturnType<TestDatabase['adapter']>) => new PostgresClient({ adapter }) as unknown as Client,
  },
  mysql: {
    database: async () => createMysqlDatabase(await mysqlUrl()),
    client: (adapter: ReturnType<TestDatabase['adapter']>) => new MysqlClient({ adapter }) as unknown as Client,
  },
}

describe.each(Object.keys(providers) as (keyof typeof providers)[])('counting adapter on %s', (provider) => {
  let db: TestDatabase
  let prisma: Client
  let counting: ReturnType<typeof countingAdapter>
  let hook: ((sql: string) => Promise<void> | undefined) | undefined

  beforeAll(async () => {
    db = await providers[provider].database()
    counting = countingAdapter(db.adapter(), { beforeQuery: (sql) => hook?.(sql) })
    prisma = providers[provider].client(counting.adapter as ReturnType<TestDatabase['adapter']>)
    await prisma.user.create({ data: { email: 'a@example.com', posts: { create: { title: 'hello' } } } })
  })
  afterAll(async () => {
    await prisma?.$disconnect()
    await db?.drop()
  })

  it('counts one statement per query, even when Prisma merges identical findUnique calls', async () => {
    counting.reset()
    await prisma.user.findMany()
    expect(counting.count()).toBe(1)
    await Promise.all(Array.from({ length: 3 }, (_, i) => prisma.user.findFirst({ where: { id: { gt: i } } })))
    expect(counting.count()).toBe(4)
    // Prisma's dataloader turns these ten calls into one SQL query: the reason tests count below Prisma.
    await Promise.all(Array.from({ length: 10 }, () => prisma.user.findUnique({ where: { id: 1 } })))
    expect(counting.count()).toBe(5)
    counting.reset()
    expect(counting.count()).toBe(0)
  })

  it('counts statements inside interactive transactions, COMMIT included', async () => {
    counting.reset()
    await prisma.$transaction(async (tx) => {
      await tx.user.findMany()
      await tx.post.findMany()
    })
    const statements = counting.statements()
    expect(statements.filter((sql) => /^\s*select/i.test(sql))).toHaveLength(2)
    expect(statements.at(-1)).toMatch(/COMMIT/i)
    expect(counting.count()).toBe(3)
  })

  it('beforeQuery can hold one statement while others go through', async () => {
    let release = () => {}
    let reached = () => {}
    const heldReached = new Promise<void>((resolve) => {
      reached = resolve
    })
    hook = (sql) => {
      if (!/^\s*select/i.test(sql) || !sql.includes('Post')) return undefined
      reached()
      return new Promise<void>((resolve) => {
        release = resolve
      })
    }
    try {
      let done = false
      const posts = prisma.post.findMany().then((rows) => {
        done = true
        return rows
      })
      await heldReached
      expect(await prisma.user.count()).toBe(1)
      expect(done).toBe(false)
      release()
      expect(await posts).toHaveLength(1)
    } finally {
      hook = undefined
    }
  })
})

describe('services', () => {
  it('redisUrl() answers PING', async () => {
    const redis = new Redis(await redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 })
    try {
      expect(await redis.ping()).toBe('PONG')
    } finally {
      redis.disconnect()
    }
  })

  it('startRedisServer() gives a private server and stop() ends it', async () => {
    const server = await startRedisServer({ args: ['--maxmemory', '1mb'] })
    const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    redis.on('error', () => {})
    try {
      expect(await redis.config('GET', 'maxmemory')).toEqual(['maxmemory', String(1024 * 1024)])
      expect(() => process.kill(server.pid, 0)).not.toThrow()
    } finally {
      redis.disconnect()
      await server.stop()
    }
    expect(() => process.kill(server.pid, 0)).toThrow()
  })

  it('createMysqlDatabase() makes the columns Prisma makes on MySQL: utf8mb4, case-insensitive, native types', async () => {
    const db = await createMysqlDatabase(await mysqlUrl())
    const prisma = new MysqlClient({ adapter: db.adapter() })
    try {
      const columns = await prisma.$queryRawUnsafe<Array<Record<string, string>>>(
        'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, COLLATION_NAME AS collation FROM information_schema.COLUMNS ' +
          "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'User' ORDER BY ORDINAL_POSITION",
      )
      expect(Object.fromEntries(columns.map((c) => [c.name, `${c.type} ${c.collation ?? ''}`.trim()]))).toEqual({
        id: 'int(11)',
        email: 'varchar(191) utf8mb4_unicode_ci',
        name: 'varchar(191) utf8mb4_unicode_ci',
        role: "enum('USER','ADMIN') utf8mb4_unicode_ci",
        balance: 'decimal(65,30)',
        karma: 'bigint(20)',
        avatar: 'longblob',
        prefs: 'longtext utf8mb4_bin',
        createdAt: 'datetime(3)',
        invitedById: 'int(11)',
      })
      await prisma.user.create({ data: { email: 'a@x' } })
      expect(await prisma.user.findUnique({ where: { email: 'A@X' } })).not.toBeNull()
    } finally {
      await prisma.$disconnect()
      await db.drop()
    }
  })

  it('startMariadbServer() gives a private MariaDB with the tables of the schema, and stop() ends it', async () => {
    const server = await startMariadbServer()
    const db = await createMysqlDatabase(server.url)
    // One connection: a pool still opening more in the background when it ends would be closed by the server's
    // stop below, with a rejection nobody handles.
    const prisma = new MysqlClient({ adapter: new PrismaMariaDb(`${db.url}?connectionLimit=1`) })
    try {
      const user = await prisma.user.create({ data: { email: 'local@example.com', karma: 7n, prefs: { a: [1] } } })
      expect(await prisma.user.findUnique({ where: { id: user.id } })).toEqual(user)
      expect(() => process.kill(server.pid, 0)).not.toThrow()
    } finally {
      await prisma.$disconnect()
      await db.drop()
      await server.stop()
    }
    expect(() => process.kill(server.pid, 0)).toThrow()
  })
})
