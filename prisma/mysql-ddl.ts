// MySQL/MariaDB tables from the PostgreSQL DDL of the same models. The schema engine that runs offline
// (@prisma/schema-engine-wasm) has no MySQL connector, so this maps Prisma's PostgreSQL column types to the ones
// Prisma gives the same fields on MySQL (String → VARCHAR(191), DateTime → DATETIME(3), Bytes → LONGBLOB, Json → JSON,
// enums inline) and keeps the constraint and index names Prisma uses on both. Indexes and foreign keys go inside
// CREATE TABLE where they can: InnoDB rebuilds a table for each later CREATE INDEX / ALTER TABLE (3x slower).

const types: Array<[RegExp, string]> = [
  [/ SERIAL NOT NULL/g, ' INTEGER NOT NULL AUTO_INCREMENT'],
  [/ TEXT\b/g, ' VARCHAR(191)'],
  [/ BYTEA\b/g, ' LONGBLOB'],
  [/ JSONB\b/g, ' JSON'],
  [/ TIMESTAMP\(3\)/g, ' DATETIME(3)'],
  [/DEFAULT CURRENT_TIMESTAMP\b(?!\()/g, 'DEFAULT CURRENT_TIMESTAMP(3)'],
  [/CONSTRAINT "\w+" PRIMARY KEY/g, 'PRIMARY KEY'],
]

export function mysqlDdl(postgresDdl: string): string {
  const enums = new Map<string, string>()
  const tables = new Map<string, string[]>()
  const statements: Array<() => string> = []
  for (const raw of postgresDdl.split(/;\s*$/m)) {
    const statement = raw.replace(/^--.*$/gm, '').trim()
    if (!statement) continue
    const enumType = /^CREATE TYPE "(\w+)" AS ENUM \((.*)\)$/s.exec(statement)
    if (enumType) {
      enums.set(enumType[1] as string, `ENUM(${enumType[2]})`)
      continue
    }
    const index = /^CREATE (UNIQUE )?INDEX ("\w+") ON "(\w+)"(\(.*\))$/s.exec(statement)
    const foreignKey = /^ALTER TABLE "(\w+)" ADD (CONSTRAINT .* REFERENCES "(\w+)".*)$/s.exec(statement)
    const table = tables.get((index?.[3] ?? foreignKey?.[1]) as string)
    if (table && index) {
      table.push(`${index[1] ?? ''}INDEX ${index[2]}${index[4]}`)
      continue
    }
    // A key to a table created later stays an ALTER TABLE.
    if (table && foreignKey && tables.has(foreignKey[3] as string)) {
      table.push(foreignKey[2] as string)
      continue
    }
    let sql = statement
    for (const [pattern, replacement] of types) sql = sql.replace(pattern, replacement)
    // A column typed by an enum: `"role" "Role" NOT NULL` becomes `"role" ENUM('USER', 'ADMIN') NOT NULL`.
    sql = sql.replace(/^(\s+"\w+") "(\w+)"/gm, (whole, column: string, type: string) => {
      const values = enums.get(type)
      return values ? `${column} ${values}` : whole
    })
    const created = /^CREATE TABLE "(\w+)"/.exec(sql)
    if (created) {
      const clauses: string[] = []
      tables.set(created[1] as string, clauses)
      statements.push(() => {
        const body = sql.replace(/\n\);?$/, `${clauses.map((c) => `,\n    ${c}`).join('')}\n)`)
        // Prisma's MySQL tables: utf8mb4 with its default (case-insensitive) collation.
        return `${body} DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`
      })
    } else statements.push(() => sql)
  }
  return statements.map((s) => `${s().replace(/"/g, '`')};`).join('\n\n')
}
