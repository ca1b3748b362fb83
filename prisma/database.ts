// Creates an empty database with the tables of prisma/models.prisma, offline (no schema-engine download): the
// engine's `diff` from empty gives the DDL (`ddl`: in a child process, kept per schema), which the adapter (SQLite,
// MySQL/MariaDB) or `pg` runs. See docs/design.md, "Toolchain facts".
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { copyFile, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaMariaDb } from '@prisma/adapter-mariadb'
import { PrismaPg } from '@prisma/adapter-pg'
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils'
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg'
import pg from 'pg'
import { mysqlDdl } from './mysql-ddl.ts'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

export type Provider = 'sqlite' | 'postgres' | 'mysql'

/** A database ready for a Prisma client: its adapter factory and how to drop it. */
export interface TestDatabase {
  provider: Provider
  url: string
  adapter: () => PrismaBetterSqlite3 | PrismaPg | PrismaMariaDb
  drop(): Promise<void>
}

// @types/node 20 does not declare WebAssembly; this is the one call used here.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>
}

let enginePromise: Promise<void> | undefined
function loadEngine(): Promise<void> {
  enginePromise ??= (async () => {
    const wasm = require.resolve('@prisma/schema-engine-wasm').replace('schema_engine.js', 'schema_engine_bg.wasm')
    const { instance } = await WebAssembly.instantiate(readFileSync(wasm), { './schema_engine_bg.js': bg as never })
    bg.__wbg_set_wasm(instance.exports)
    ;(instance.exports as { __wbindgen_start(): void }).__wbindgen_start()
  })()
  return enginePromise
}

function schemaFile(provider: Provider) {
  const path = join(here, '..', 'generated', provider, 'schema.prisma')
  return { path, content: readFileSync(path, 'utf8') }
}

const filters = { externalTables: [], externalEnums: [] }

/** The views of models.prisma: schema push and diff leave views to the database, so they are created here. */
const views = [
  `CREATE VIEW "PostStats" AS SELECT "authorId", CAST(COUNT(*) AS INTEGER) AS "posts",
     CAST(COALESCE(SUM("views"), 0) AS INTEGER) AS "views" FROM "Post" WHERE "authorId" IS NOT NULL GROUP BY "authorId"`,
]

/** A schema file as the engine reads it. */
export interface SchemaFile {
  path: string
  content: string
}

async function newEngine(file: SchemaFile, factory: unknown) {
  await loadEngine()
  return bg.SchemaEngine.new(
    { datamodels: [[file.path, file.content]] } as never,
    () => {},
    bindMigrationAwareSqlAdapterFactory(factory as never),
  )
}

/**
 * Creates the tables of `file` in an empty SQLite file or PostgreSQL database: the DDL of its schema (`ddl`), run by
 * the adapter or `pg`.
 */
export async function createTables(provider: 'sqlite' | 'postgres', url: string, file: SchemaFile): Promise<void> {
  const sql = await ddl(file)
  if (provider === 'postgres') return postgresQuery(url, sql)
  const connection = await new PrismaBetterSqlite3({ url }).connect()
  try {
    await connection.executeScript(sql)
  } finally {
    await connection.dispose()
  }
}

const ddlBySchema = new Map<string, Promise<string>>()

/**
 * The DDL of `file`'s tables, in its datasource's dialect: the engine's diff from empty, made in a process of its own
 * (prisma/ddl-child.ts) and kept in the system's temporary folder under a hash of the engine's version and the
 * schema text, so each schema is diffed once per machine. Never in the calling process: a test worker runs many
 * files, and the engine's WebAssembly instance, kept for all of them, panicked in CI (an unreadable error message,
 * then `unreachable`) on a diff after other files' diffs, taking every later call with it.
 */
function ddl(file: SchemaFile): Promise<string> {
  let made = ddlBySchema.get(file.content)
  if (made === undefined) {
    made = cachedDdl(file)
    ddlBySchema.set(file.content, made)
    made.catch(() => ddlBySchema.delete(file.content))
  }
  return made
}

/** The schema engine's version: its diffs are kept under it. */
function engineVersion(): string {
  const manifest = join(dirname(require.resolve('@prisma/schema-engine-wasm')), 'package.json')
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
}

async function cachedDdl(file: SchemaFile): Promise<string> {
  const key = createHash('sha256').update(engineVersion()).update('\0').update(file.content).digest('hex')
  const cached = join(tmpdir(), `strata-ddl-${key.slice(0, 24)}.sql`)
  try {
    return await readFile(cached, 'utf8')
  } catch {
    // not made yet on this machine
  }
  const sql = await ddlInChild(file)
  // Written whole, then renamed: a process reading it concurrently sees the old state or the whole file.
  const partial = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`
  await writeFile(partial, sql)
  await rename(partial, cached)
  return sql
}

function ddlInChild(file: SchemaFile): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'ddl-child.ts'), file.path], {
    cwd: join(here, '..'),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
  child.stdin.end(file.content)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'))
      else reject(new Error(`the schema engine's diff of ${file.path} failed (${code}):\n${Buffer.concat(err)}`))
    })
  })
}

/**
 * The engine's diff from empty to `file` (run by prisma/ddl-child.ts). A diff needs no server: an in-memory SQLite
 * adapter, so no connection to any database outlives the call.
 */
export async function diffFromEmpty(file: SchemaFile): Promise<string> {
  const engine = await newEngine(file, new PrismaBetterSqlite3({ url: ':memory:' }))
  const { stdout } = (await engine.diff({
    from: { tag: 'empty' },
    to: { tag: 'schemaDatamodel', files: [file] },
    script: true,
    exitCode: null,
    filters,
  } as never)) as { stdout: string }
  return stdout
}

/** Runs `run` on a connection of its own to `url`, closed after it. */
export async function withPostgres<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

/** Drops the database `name` on the server at `serverUrl`, whoever is connected to it. */
function dropPostgresDatabase(serverUrl: string, name: string): Promise<void> {
  return postgresQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
}

/** The name of the database a PostgreSQL URL names. */
function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1))
}

export async function postgresQuery(url: string, sql: string): Promise<void> {
  await withPostgres(url, (client) => client.query(sql))
}

/** A new, empty database on the PostgreSQL server at `serverUrl`: its URL, and how to drop it. */
export async function newPostgresDatabase(
  serverUrl: string,
  prefix: string,
  /** A database to copy (PostgreSQL's `TEMPLATE`: a file copy, much faster than creating the tables again). */
  template?: string,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`
  await postgresQuery(serverUrl, `CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    drop: () => dropPostgresDatabase(serverUrl, name),
  }
}

/**
 * Where a test run keeps the databases every new one copies (test/support/global-setup.ts makes them once per run):
 * a SQLite file, and a PostgreSQL database's URL. Copying one is much cheaper than creating its tables again (a file
 * copy; PostgreSQL's `CREATE DATABASE … TEMPLATE`, without the schema engine's diff and the DDL).
 */
export const TEMPLATE_ENV = { sqlite: 'STRATA_TEST_SQLITE_TEMPLATE', postgres: 'STRATA_TEST_PG_TEMPLATE' } as const

/** A fresh SQLite file with every table created (copied from the run's template when there is one). */
export async function createSqliteDatabase(
  file = join(tmpdir(), `strata-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.db`),
): Promise<TestDatabase> {
  const url = `file:${file}`
  const template = process.env[TEMPLATE_ENV.sqlite]
  if (template) await copyFile(template, file)
  else await createSqliteTables(url)
  return {
    provider: 'sqlite',
    url,
    adapter: () => new PrismaBetterSqlite3({ url }),
    async drop() {
      await rm(file, { force: true })
    },
  }
}

async function createSqliteTables(url: string): Promise<void> {
  await createTables('sqlite', url, schemaFile('sqlite'))
  const connection = await new PrismaBetterSqlite3({ url }).connect()
  await connection.executeScript(views.map((v) => `${v};`).join('\n'))
  await connection.dispose()
}

/** A fresh PostgreSQL database (a new one on the server at `serverUrl`) with every table created. */
export async function createPostgresDatabase(serverUrl: string): Promise<TestDatabase> {
  const template = postgresTemplate(serverUrl)
  const db = await newPostgresDatabase(serverUrl, 'strata', template)
  if (template === undefined) await createPostgresTables(db.url)
  return {
    provider: 'postgres',
    url: db.url,
    adapter: () => new PrismaPg({ connectionString: db.url }),
    drop: db.drop,
  }
}

async function createPostgresTables(url: string): Promise<void> {
  await createTables('postgres', url, schemaFile('postgres'))
  for (const view of views) await postgresQuery(url, view)
}

/** The run's template database, if it is on the server at `serverUrl`. */
function postgresTemplate(serverUrl: string): string | undefined {
  const template = process.env[TEMPLATE_ENV.postgres]
  if (!template) return undefined
  return new URL(template).host === new URL(serverUrl).host ? databaseName(template) : undefined
}

/** The databases a test run copies (see `TEMPLATE_ENV`): a SQLite file, and a PostgreSQL database's URL. */
export interface Templates {
  sqlite: string
  postgres?: string
}

/**
 * Makes the databases a test run copies; the PostgreSQL one on the server at `postgresServer`, if given. What it made
 * before a failure is dropped.
 */
export async function makeTemplates(postgresServer: string | undefined): Promise<Templates> {
  const templates: Templates = { sqlite: join(tmpdir(), `strata-template-${process.pid}-${Date.now()}.db`) }
  try {
    await createSqliteTables(`file:${templates.sqlite}`)
    if (postgresServer) {
      const db = await newPostgresDatabase(postgresServer, 'strata_template')
      templates.postgres = db.url
      await createPostgresTables(db.url)
      await sealTemplate(postgresServer, db.name)
    }
    return templates
  } catch (error) {
    await dropTemplates(templates, postgresServer).catch(() => {})
    throw error
  }
}

/**
 * Makes a PostgreSQL database a template no one connects to: a copy fails while anyone is connected to its
 * template, which autovacuum is, now and then.
 */
export async function sealTemplate(serverUrl: string, name: string): Promise<void> {
  await postgresQuery(serverUrl, `ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS false`)
  await postgresQuery(
    serverUrl,
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`,
  )
}

/** Removes what `makeTemplates` made. */
export async function dropTemplates(templates: Templates, postgresServer: string | undefined): Promise<void> {
  await rm(templates.sqlite, { force: true })
  if (templates.postgres && postgresServer) await dropPostgresDatabase(postgresServer, databaseName(templates.postgres))
}

/**
 * Runs SQL on a MySQL/MariaDB server through the adapter: no client library of our own. The adapter has no
 * `executeScript` (so no `schemaPush` either), hence one statement at a time; Prisma's DDL ends each with `;`.
 */
async function mysqlScript(url: string, sql: string): Promise<void> {
  // One connection: a pool opens more in the background up to its minimum idle count, and one still being opened
  // when the pool ends is closed later by the server (a test stops its private server right after dropping its
  // database) with a rejection nobody handles.
  const single = new URL(url)
  single.searchParams.set('connectionLimit', '1')
  const adapter = await new PrismaMariaDb(single.toString()).connect()
  try {
    for (const statement of sql.split(/;\s*$/m).map((s) => s.trim())) {
      if (statement.replace(/^--.*$/gm, '').trim())
        await adapter.executeRaw({ sql: statement, args: [], argTypes: [] } as never)
    }
  } finally {
    await adapter.dispose()
  }
}

let mysqlTablesDdl: Promise<string> | undefined
/**
 * The tables' DDL, computed once per process. The offline schema engine has no MySQL connector: it diffs the
 * PostgreSQL schema of the same models (an in-memory SQLite adapter: a diff from empty needs no server) and
 * prisma/mysql-ddl.ts maps the types.
 */
function mysqlTables(): Promise<string> {
  mysqlTablesDdl ??= (async () => {
    const stdout = await ddl(schemaFile('postgres'))
    // The views in MySQL's dialect: backticks, and CAST to SIGNED (MySQL has no CAST AS INTEGER).
    const mysqlViews = views.map((v) => v.replace(/"/g, '`').replace(/AS INTEGER\)/g, 'AS SIGNED)'))
    return [mysqlDdl(stdout), ...mysqlViews.map((v) => `${v};`)].join('\n\n')
  })()
  return mysqlTablesDdl
}

/** A fresh MySQL/MariaDB database (a new one on the server at `serverUrl`) with every table created. */
export async function createMysqlDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `strata_${process.pid}_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`
  // The driver rejects a URL without a database; the server's own `mysql` database is there to connect to.
  const admin = new URL(serverUrl)
  if (admin.pathname.length <= 1) admin.pathname = '/mysql'
  const adminUrl = admin.toString()
  await mysqlScript(adminUrl, `CREATE DATABASE \`${name}\``)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const dbUrl = url.toString()
  await mysqlScript(dbUrl, await mysqlTables())
  return {
    provider: 'mysql',
    url: dbUrl,
    adapter: () => new PrismaMariaDb(dbUrl),
    async drop() {
      await mysqlScript(adminUrl, `DROP DATABASE IF EXISTS \`${name}\``)
    },
  }
}
