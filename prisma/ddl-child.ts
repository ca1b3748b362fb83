// Prints the DDL of the schema text on stdin (the schema engine's diff from empty; argv[2] names its file), then
// exits: run by prisma/database.ts in a process of its own, so the engine's WebAssembly instance never lives in a
// test worker, and the 60 s timer the engine leaves behind holds nobody open.
import { readFileSync } from 'node:fs'
import { diffFromEmpty } from './database.ts'

const content = readFileSync(0, 'utf8')
process.stdout.write(await diffFromEmpty({ path: process.argv[2] ?? 'schema.prisma', content }))
process.exit(0)
