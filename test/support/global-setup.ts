// Resolves Redis, PostgreSQL and MySQL/MariaDB once per vitest run, in the main process, and passes the URLs to the forked workers
// through the environment (workers read REDIS_URL / DATABASE_URL / MYSQL_URL first). Without this, each worker would start its
// own throwaway servers. A failure here is not fatal: unit-only runs need no services, and every test that does need
// one gets the same explanatory error from services.ts in its worker.
// It also makes the databases every test's new one copies (prisma/database.ts, TEMPLATE_ENV), once per run, and
// draws the slice of attacks the adversaries run (test/adversary/slice-of-run.ts) once, for every file.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dropTemplates, TEMPLATE_ENV, type Templates } from '../../prisma/database.ts'
import { drawSlice } from '../adversary/slice-of-run.ts'
import { mysqlUrl, postgresUrl, redisUrl, stopAll } from './services.ts'

export default async function setup() {
  const [redis, postgres, mysql] = await Promise.allSettled([redisUrl(), postgresUrl(), mysqlUrl()])
  if (redis.status === 'fulfilled') process.env.REDIS_URL = redis.value
  if (postgres.status === 'fulfilled') process.env.DATABASE_URL = postgres.value
  if (mysql.status === 'fulfilled') process.env.MYSQL_URL = mysql.value
  drawSlice()
  const server = postgres.status === 'fulfilled' ? postgres.value : undefined
  const templates = made(server)
  return async () => {
    try {
      if (templates) await dropTemplates(templates, server)
    } finally {
      await stopAll()
    }
  }
}

/** The run's templates, made in a child process (see make-templates.ts); none, said why, if that fails. */
function made(server: string | undefined): Templates | undefined {
  const script = fileURLToPath(new URL('./make-templates.ts', import.meta.url))
  try {
    const env = { ...process.env, DATABASE_URL: server ?? '' }
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', env, timeout: 120_000 })
    const templates = JSON.parse(out) as Templates
    process.env[TEMPLATE_ENV.sqlite] = templates.sqlite
    if (templates.postgres) process.env[TEMPLATE_ENV.postgres] = templates.postgres
    return templates
  } catch (error) {
    // Each test then creates its database's tables itself: slower, not wrong.
    process.stderr.write(`[test services] no template databases, each test creates its own tables: ${error}\n`)
    return undefined
  }
}
