// Generates the adversary's Prisma clients (test/adversary/models.prisma) per provider, offline, into
// generated/adversary/<provider>. Run: node test/adversary/generate.mjs (after pnpm build).
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const models = readFileSync(join(here, 'models.prisma'), 'utf8')
for (const [name, provider] of Object.entries({ sqlite: 'sqlite', postgres: 'postgresql' })) {
  const dir = join(root, 'generated', 'adversary', name)
  mkdirSync(dir, { recursive: true })
  const schema = `datasource db {\n  provider = "${provider}"\n}\n\ngenerator client {\n  provider = "prisma-client"\n  output   = "${join(dir, 'client')}"\n  moduleFormat = "esm"\n  previewFeatures = ["views"]\n}\n\n${models}`
  const path = join(dir, 'schema.prisma')
  writeFileSync(path, schema)
  execFileSync(join(root, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', path], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    },
  })
}
// PostgreSQL only (SQLite's table names ignore case): two tables whose names differ only by case.
{
  const dir = join(root, 'generated', 'adversary', 'postgres-case')
  mkdirSync(dir, { recursive: true })
  const cases = readFileSync(join(here, 'case-models.prisma'), 'utf8')
  const path = join(dir, 'schema.prisma')
  writeFileSync(
    path,
    `datasource db {\n  provider = "postgresql"\n}\n\ngenerator client {\n  provider = "prisma-client"\n  output   = "${join(dir, 'client')}"\n  moduleFormat = "esm"\n}\n\n${cases}`,
  )
  execFileSync(join(root, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', path], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    },
  })
}
// The precise-invalidation adversary's own schema (test/adversary/precise-models.prisma), SQLite and PostgreSQL.
for (const [name, provider] of Object.entries({ sqlite: 'sqlite', postgres: 'postgresql' })) {
  const dir = join(root, 'generated', 'adversary-precise', name)
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'schema.prisma')
  writeFileSync(
    path,
    `datasource db {\n  provider = "${provider}"\n}\n\ngenerator client {\n  provider = "prisma-client"\n  output   = "${join(dir, 'client')}"\n  moduleFormat = "esm"\n}\n\n${readFileSync(join(here, 'precise-models.prisma'), 'utf8')}`,
  )
  execFileSync(join(root, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', path], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    },
  })
}
console.log('generated adversary clients')
