// ADVERSARY (deterministic, PostgreSQL only): two models whose tables differ only by case ("Note", "note"). Raw
// SQL writing one must invalidate that one: PostgreSQL keeps quoted names' case, so they are two tables.
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { cache } from 'prisma-strata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrismaClient } from '../../generated/adversary/postgres-case/client/client.ts'
import { postgresUrl, redisUrl } from '../support/services.ts'

describe('adversary: tables whose names differ only by case (postgres / two-tier)', () => {
  let url: string
  let server: string
  const name = `adv_case_${process.pid}_${Date.now()}`
  const sql = async (text: string, target = url) => {
    const c = new pg.Client({ connectionString: target })
    await c.connect()
    await c.query(text)
    await c.end()
  }
  beforeAll(async () => {
    server = await postgresUrl()
    await sql(`CREATE DATABASE "${name}"`, server)
    const u = new URL(server)
    u.pathname = `/${name}`
    url = u.toString()
    await sql(`CREATE TABLE "Note" (id int PRIMARY KEY, text text NOT NULL); CREATE TABLE "note" (id int PRIMARY KEY, text text NOT NULL);
      INSERT INTO "Note" VALUES (1, 'upper'); INSERT INTO "note" VALUES (1, 'lower');`)
  })
  afterAll(async () => {
    await sql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`, server)
  })

  for (const [label, statement] of [
    ['UPDATE "Note" (the Prisma-named table)', `UPDATE "Note" SET text = 'upper2'`],
    ['UPDATE note (the legacy table, unquoted)', `UPDATE note SET text = 'lower2'`],
  ] as const) {
    it(`raw ${label} invalidates that table's model`, async () => {
      await sql(`UPDATE "Note" SET text = 'upper'; UPDATE "note" SET text = 'lower'`)
      const raw = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) })
      const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }).$extends(
        cache({ redis: await redisUrl(), prefix: `advcase${process.pid}x${Date.now()}` }),
      )
      try {
        await prisma.$cache.whenReady(5000)
        const read = async (p: typeof raw) => [await p.note.findMany(), await p.legacyNote.findMany()]
        await read(prisma as unknown as typeof raw)
        await prisma.$executeRawUnsafe(statement)
        expect(await read(prisma as unknown as typeof raw)).toEqual(await read(raw))
      } finally {
        await prisma.$cache.close()
        await prisma.$disconnect()
        await raw.$disconnect()
      }
    })
  }
})
