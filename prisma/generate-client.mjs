// One Prisma client generated offline: `prisma generate` does not need the schema engine, but the CLI looks for it
// first; any executable will do. Shared by prisma/generate.mjs and test/adversary/generate.mjs.
import { execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * Writes `dir/schema.prisma` (a datasource of `provider`, the client generator into `dir/client`, then `rest`: more
 * generators and the models) and generates it. `previewFeatures`: the client generator's, e.g. `["views"]`.
 */
export function generateClient(dir, provider, rest, previewFeatures = []) {
  mkdirSync(dir, { recursive: true })
  const features = previewFeatures.length ? `\n  previewFeatures = ${JSON.stringify(previewFeatures)}` : ''
  const path = join(dir, 'schema.prisma')
  writeFileSync(
    path,
    `datasource db {\n  provider = "${provider}"\n}\n\ngenerator client {\n  provider = "prisma-client"\n  output   = "${join(dir, 'client')}"\n  moduleFormat = "esm"${features}\n}\n\n${rest}`,
  )
  return new Promise((resolve, reject) => {
    const env = {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
      CHECKPOINT_DISABLE: '1',
    }
    execFile(
      join(root, 'node_modules', '.bin', 'prisma'),
      ['generate', '--schema', path],
      { cwd: root, env },
      (error, _out, err) => {
        if (error) reject(new Error(`prisma generate --schema ${path} failed:\n${err}`))
        else resolve()
      },
    )
  })
}

/** Runs `jobs` (each generates one client), as many at a time as the machine has cores: each is one CLI process. */
export async function generateClients(jobs) {
  const queue = [...jobs]
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await job()
  }
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), queue.length) }, worker))
}
