// A describe's own Redis server (to stop, freeze or restart without touching the shared one) and a SQLite database
// with an uncached client, made before its tests and removed after them.
import { afterAll, beforeAll } from 'vitest'
import type { TestDatabase } from '../../prisma/database.ts'
import { newClient, newDatabase, type RawClient } from './matrix.ts'
import { type LocalServer, startRedisServer } from './services.ts'

export interface OwnRedisAndSqlite {
  /** May be replaced by a test that restarts the server (on the same port). */
  server: LocalServer
  db: TestDatabase
  raw: RawClient
}

/** Registers the describe's hooks; read the fields in its tests. */
export function ownRedisAndSqlite(): OwnRedisAndSqlite {
  const scene = {} as OwnRedisAndSqlite
  beforeAll(async () => {
    scene.server = await startRedisServer()
    scene.db = await newDatabase('sqlite')
    scene.raw = newClient('sqlite', scene.db.adapter())
  })
  afterAll(async () => {
    await scene.raw?.$disconnect()
    await scene.db?.drop()
    await scene.server?.stop()
  })
  return scene
}
