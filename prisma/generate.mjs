// Generates one Prisma client per provider from prisma/models.prisma, offline.
// `prisma generate` does not need the schema engine, but the CLI looks for it first; any executable will do.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const models = readFileSync(join(here, 'models.prisma'), 'utf8')
export const providers = { sqlite: 'sqlite', postgres: 'postgresql', mysql: 'mysql' }

for (const [name, provider] of Object.entries(providers)) {
  const dir = join(root, 'generated', name)
  mkdirSync(dir, { recursive: true })
  // Our generator by path: a workspace bin is linked only once it is built, and this runs right after the build.
  const strata = join(root, 'packages', 'prisma-strata-generator', 'dist', 'bin.js')
  const schema = `datasource db {\n  provider = "${provider}"\n}\n\ngenerator client {\n  provider = "prisma-client"\n  output   = "${join(dir, 'client')}"\n  moduleFormat = "esm"\n  previewFeatures = ["views"]\n}\n\ngenerator strata {\n  provider = "node ${strata}"\n  output   = "${join(dir, 'strata')}"\n}\n\n${models}`
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
console.log(`generated Prisma clients: ${Object.keys(providers).join(', ')}`)
