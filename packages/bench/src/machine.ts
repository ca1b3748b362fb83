// What the numbers were measured on: CPU, cores, Node, Prisma and the rest of the stack, the commit.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { Prisma } from '../../../generated/sqlite/client/client.ts'

const require = createRequire(import.meta.url)

export function packageVersion(name: string): string | undefined {
  try {
    // Some packages do not export ./package.json: find it from their main entry.
    let dir = dirname(require.resolve(name))
    for (let i = 0; i < 5; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
        if (pkg.name === name) return pkg.version
      } catch {}
    }
  } catch {}
  return undefined
}

function git(cwd: string, ...args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

export function machineInfo() {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    v8: process.versions.v8,
  }
}

export function stackVersions() {
  return {
    prisma: Prisma.prismaVersion.client,
    prismaEngine: Prisma.prismaVersion.engine,
    '@prisma/client': packageVersion('@prisma/client'),
    '@prisma/adapter-better-sqlite3': packageVersion('@prisma/adapter-better-sqlite3'),
    '@prisma/adapter-pg': packageVersion('@prisma/adapter-pg'),
    'better-sqlite3': packageVersion('better-sqlite3'),
    ioredis: packageVersion('ioredis'),
    'prisma-strata': packageVersion('prisma-strata'),
    'prisma-extension-redis': packageVersion('prisma-extension-redis'),
  }
}

/** The commit measured, and whether prisma-strata's sources differed from it (uncommitted work). */
export function commitInfo(root: string) {
  const status = git(root, 'status', '--porcelain', '--', 'packages/prisma-strata')
  return {
    commit: git(root, 'rev-parse', '--short', 'HEAD'),
    strataSourceModified: status === undefined ? undefined : status.length > 0,
  }
}
