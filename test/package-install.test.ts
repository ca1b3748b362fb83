// The packages as a user gets them: both packed (pnpm pack, which turns `workspace:` ranges into versions), installed
// with npm into a fresh app next to today's ioredis (6) and Prisma, `prisma generate` run with the generator, then an
// ES module app (type-checked with `tsc --strict`, run with tsx) and a CommonJS app (compiled with tsc) each cache a read and exit
// on their own after `$disconnect()`. Needs the npm registry, like `npm test` itself.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { postgresUrl, redisUrl } from './support/services.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  execFileSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: 'pipe' })

describe('installed from the packed tarballs', () => {
  const app = mkdtempSync(join(tmpdir(), 'strata-app-'))
  let database: string | undefined
  let server: string | undefined
  afterAll(async () => {
    rmSync(app, { recursive: true, force: true })
    if (database && server) {
      const admin = new pg.Client({ connectionString: server })
      await admin.connect()
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
      await admin.end()
    }
  })

  it('npm installs both packages; ESM and CommonJS apps cache a read and exit after $disconnect', async () => {
    const packs = join(app, 'packs')
    for (const pkg of ['prisma-strata', 'prisma-strata-generator']) {
      run('pnpm', ['pack', '--pack-destination', packs], join(root, 'packages', pkg))
    }
    const tarballs = readdirSync(packs).map((file) => join(packs, file))
    cpSync(join(root, 'test', 'fixtures', 'fresh-app'), app, { recursive: true })
    writeFileSync(join(app, 'package.json'), '{ "name": "strata-fresh-app", "private": true }\n')
    // The versions this workspace tests with.
    const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies
    const versions = (name: string) => pinned[name] as string
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline', // what the npm cache holds is not asked of the registry again
        ...tarballs,
        `@prisma/client@${versions('@prisma/client')}`,
        `prisma@${versions('prisma')}`,
        `@prisma/adapter-pg@${versions('@prisma/adapter-pg')}`,
        'pg',
        'ioredis@6',
        'typescript@5.9.3',
        '@types/node@20',
        'tsx',
      ],
      app,
    )
    // Offline, `prisma generate` needs only some executable where it looks for the schema engine.
    run('npx', ['prisma', 'generate'], app, { PRISMA_SCHEMA_ENGINE_BINARY: process.execPath })

    server = await postgresUrl()
    database = `strata_app_${process.pid}_${Date.now()}`
    const admin = new pg.Client({ connectionString: server })
    await admin.connect()
    await admin.query(`CREATE DATABASE "${database}"`)
    await admin.end()
    const url = new URL(server)
    url.pathname = `/${database}`
    const db = new pg.Client({ connectionString: url.toString() })
    await db.connect()
    await db.query('CREATE TABLE "Note" (id serial PRIMARY KEY, title text NOT NULL)')
    await db.end()
    const env = { ...process.env, DATABASE_URL: url.toString(), REDIS_URL: await redisUrl() }

    run('npx', ['tsc', '-p', 'tsconfig.json'], app)
    run('npx', ['tsc', '-p', 'tsconfig.cjs.json'], app)
    for (const [format, command] of [
      ['esm', ['npx', 'tsx', 'app.mts']],
      ['cjs', ['node', 'app.cjs']],
    ] as const) {
      // A script kept alive by a handle never exits: spawnSync's timeout turns that hang into a failure.
      const result = spawnSync(command[0], command.slice(1), { cwd: app, env, encoding: 'utf8', timeout: 60_000 })
      expect(result.stderr, format).not.toMatch(/E_BUS|E_REDIS|Error/)
      expect(result.status, `${format}: ${result.stderr}`).toBe(0)
      expect(JSON.parse(result.stdout.trim())).toEqual({ format, title: format, same: true, hits: 1 })
    }
  }, 600_000)
})
