// Two seeded SQLite databases of the precise adversary's schema, one written through a stack of extensions with
// cache() in it and one through the same stack without: a write's own answer and the reads cached before it are
// compared with the uncached side's (test/adversary/write-answers.test.ts).
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { type CacheOptions, cache } from 'prisma-strata'
import { PrismaClient as LiteClient } from '../../generated/adversary-precise/sqlite/client/client.ts'
import { createTables } from '../../prisma/database.ts'
import { redisUrl } from '../support/services.ts'
import { seedPrecise, show } from './precise-database.ts'

const here = dirname(fileURLToPath(import.meta.url))
let seq = 0
// biome-ignore lint/suspicious/noExplicitAny: attacks use the full client API and any extension
export type C = any

export interface Stack {
  clientOptions?: object
  below?: (c: C) => C
  above?: (c: C) => C
  cacheOptions?: CacheOptions
}

async function db(clientOptions: object) {
  const path = join(here, '..', '..', 'generated', 'adversary-precise', 'sqlite', 'schema.prisma')
  const file = { path, content: readFileSync(path, 'utf8') }
  const f = join(tmpdir(), `strata-two-worlds-${process.pid}-${Date.now()}-${seq++}.db`)
  await createTables('sqlite', `file:${f}`, file)
  const seeder = new LiteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${f}` }) })
  await seedPrecise(seeder as never)
  await seeder.$disconnect()
  const clients: C[] = []
  return {
    client() {
      const c = new LiteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${f}` }), ...clientOptions } as never)
      clients.push(c)
      return c as C
    },
    async drop() {
      for (const c of clients) await c.$disconnect().catch(() => {})
      await rm(f, { force: true })
    },
  }
}

export function norm(s: string): string {
  return s.replace(/Date\([^)]*\)/g, 'Date')
}

export async function settleN(f: () => PromiseLike<unknown>): Promise<string> {
  try {
    return norm(show(await f()))
  } catch (e) {
    return `throws ${String((e as Error).message)
      .split('\n')
      .at(-1)}`
  }
}

export type R = [string, (p: C) => PromiseLike<unknown>]

/** Runs reads (cached twice), the write on both sides, then the reads again; returns differences. */
export async function attack(
  stack: Stack,
  write: (p: C) => PromiseLike<unknown>,
  reads: R[],
  readsAfter: R[] = reads,
): Promise<string[]> {
  const a = await db(stack.clientOptions ?? {})
  const b = await db(stack.clientOptions ?? {})
  const below = stack.below ?? ((c: C) => c)
  const above = stack.above ?? ((c: C) => c)
  const url = await redisUrl()
  const ext = below(a.client()).$extends(
    cache({
      redis: url,
      prefix: `two-worlds-${process.pid}x${Date.now().toString(36)}x${seq++}`,
      ...stack.cacheOptions,
    }),
  )
  await ext.$cache.whenReady(5000)
  const cached = above(ext)
  const oracle = above(below(b.client()))
  const diffs: string[] = []
  try {
    for (const [, r] of reads) {
      await settleN(() => r(cached))
      await settleN(() => r(cached))
    }
    const got = await settleN(() => write(cached))
    const want = await settleN(() => write(oracle))
    if (got !== want) diffs.push(`WRITE ANSWER\n  cached: ${got}\n  oracle: ${want}`)
    for (const [name, r] of readsAfter) {
      const g = await settleN(() => r(cached))
      const w = await settleN(() => r(oracle))
      if (g !== w) diffs.push(`READ ${name}\n  cached: ${g}\n  oracle: ${w}`)
    }
  } finally {
    await ext.$cache.close().catch(() => {})
    await a.drop()
    await b.drop()
  }
  return diffs
}
