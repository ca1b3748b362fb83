// Generates one Prisma client per provider from prisma/models.prisma, offline (see generate-client.mjs).
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateClient, generateClients, root } from './generate-client.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const models = readFileSync(join(here, 'models.prisma'), 'utf8')
export const providers = { sqlite: 'sqlite', postgres: 'postgresql', mysql: 'mysql' }

// Our generator by path: a workspace bin is linked only once it is built, and this runs right after the build.
const strata = join(root, 'packages', 'prisma-strata-generator', 'dist', 'bin.js')
await generateClients(
  Object.entries(providers).map(([name, provider]) => () => {
    const dir = join(root, 'generated', name)
    const generator = `generator strata {\n  provider = "node ${strata}"\n  output   = "${join(dir, 'strata')}"\n}\n\n`
    return generateClient(dir, provider, generator + models, ['views'])
  }),
)
console.log(`generated Prisma clients: ${Object.keys(providers).join(', ')}`)
