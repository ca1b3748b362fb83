// Generates the adversary's Prisma clients per provider, offline, into generated/adversary*/<provider>.
// Run: node test/adversary/generate.mjs (after pnpm build).
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateClient, generateClients, root } from '../../prisma/generate-client.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const read = (file) => readFileSync(join(here, file), 'utf8')
const both = { sqlite: 'sqlite', postgres: 'postgresql' }

const jobs = []
for (const [name, provider] of Object.entries(both)) {
  jobs.push(() =>
    generateClient(join(root, 'generated', 'adversary', name), provider, read('models.prisma'), ['views']),
  )
}
// PostgreSQL only (SQLite's table names ignore case): two tables whose names differ only by case.
jobs.push(() =>
  generateClient(join(root, 'generated', 'adversary', 'postgres-case'), 'postgresql', read('case-models.prisma')),
)
// The precise-invalidation adversary's own schema (test/adversary/precise-models.prisma).
for (const [name, provider] of Object.entries(both)) {
  jobs.push(() =>
    generateClient(join(root, 'generated', 'adversary-precise', name), provider, read('precise-models.prisma')),
  )
}
await generateClients(jobs)
console.log('generated adversary clients')
