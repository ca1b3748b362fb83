// A describe whose tests each start from an empty database, with a fresh cached client (a key prefix of its own) and
// oracle: one database for the describe, emptied before each test, and the clients below the cache kept connected
// from test to test (see `setupCase`). A database per test cost a CREATE DATABASE and the schema's DDL each time, and
// new Prisma clients their connections and the planning of every query shape again.
import type { CacheOptions } from 'prisma-strata'
import { afterAll, afterEach, beforeEach } from 'vitest'
import type { TestDatabase } from '../../prisma/database.ts'
import { type Case, newDatabase, releaseShared, type Setup, setupCase } from './matrix.ts'
import { resetDatabase } from './reset-database.ts'

/** Registers the describe's hooks; `s` is the current test's setup (read it in a test or a later `beforeEach`). */
export function casePerTest(c: Case, options: CacheOptions = {}): { readonly s: Setup } {
  let db: TestDatabase | undefined
  let s: Setup | undefined
  const retire = async () => {
    const last = { s, db }
    s = undefined
    db = undefined
    try {
      await last.s?.close()
    } finally {
      if (last.db) {
        await releaseShared(last.db)
        await last.db.drop()
      }
    }
  }
  // A test that failed (a timeout) may still be running, on these clients and this database: the next test gets
  // new ones, so nothing it sends later can land in another test's rows or counts.
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await retire()
  })
  afterAll(retire)
  beforeEach(async () => {
    await s?.close()
    db ??= await newDatabase(c.provider)
    s = await setupCase(c, options, {}, db)
    await resetDatabase(c.provider, s.raw)
  })
  return {
    get s() {
      if (s === undefined) throw new Error('casePerTest: no setup outside a test')
      return s
    },
  }
}
