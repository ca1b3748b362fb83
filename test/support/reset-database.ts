// Empties every table of a test database, so one database serves a whole file: creating one per test costs a
// CREATE DATABASE and the schema's DDL each time. Views are left alone; identity sequences start again at 1, except
// on MySQL, where AUTO_INCREMENT counters go on (an ALTER TABLE per table costs as much as a new database).
import type { Provider } from '../../prisma/database.ts'

interface RawSql {
  $queryRawUnsafe<T = unknown>(sql: string): Promise<T>
  $executeRawUnsafe(sql: string): Promise<number>
  $transaction<R>(fn: (tx: RawSql) => Promise<R>): Promise<R>
}

const listTables: Record<Provider, string> = {
  sqlite: `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_prisma%'`,
  postgres: `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()`,
  mysql: `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'`,
} as Record<Provider, string>

export async function resetDatabase(provider: Provider, client: RawSql): Promise<void> {
  const sql = listTables[provider]
  if (!sql) throw new Error(`resetDatabase: no reset for provider ${provider}`)
  const tables = (await client.$queryRawUnsafe<Array<{ name: string }>>(sql)).map((t) => t.name)
  if (provider === 'postgres') {
    await client.$executeRawUnsafe(`TRUNCATE ${tables.map((t) => `"${t}"`).join(', ')} RESTART IDENTITY CASCADE`)
    return
  }
  if (provider === 'mysql') {
    // FOREIGN_KEY_CHECKS is per connection, and a transaction keeps one. DELETE: TRUNCATE recreates each table.
    await client.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET FOREIGN_KEY_CHECKS = 0')
      for (const table of tables) await tx.$executeRawUnsafe(`DELETE FROM \`${table}\``)
      await tx.$executeRawUnsafe('SET FOREIGN_KEY_CHECKS = 1')
    })
    return
  }
  await client.$executeRawUnsafe('PRAGMA foreign_keys = OFF')
  for (const table of tables) await client.$executeRawUnsafe(`DELETE FROM "${table}"`)
  await client.$executeRawUnsafe('DELETE FROM sqlite_sequence').catch(() => undefined) // absent without AUTOINCREMENT
  await client.$executeRawUnsafe('PRAGMA foreign_keys = ON')
}
