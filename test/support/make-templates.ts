// Makes the databases a test run copies (prisma/database.ts, `makeTemplates`; the PostgreSQL one on the server at
// DATABASE_URL, if set) and prints them as JSON. Run by global-setup.ts in a process of its own: Prisma's schema
// engine leaves a 60 s timer behind, which would hold vitest's main process open after the run.
import { makeTemplates } from '../../prisma/database.ts'

const templates = await makeTemplates(process.env.DATABASE_URL || undefined)
process.stdout.write(JSON.stringify(templates))
process.exit(0)
