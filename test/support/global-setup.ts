// Resolves Redis, PostgreSQL and MySQL/MariaDB once per vitest run, in the main process, and passes the URLs to the forked workers
// through the environment (workers read REDIS_URL / DATABASE_URL / MYSQL_URL first). Without this, each worker would start its
// own throwaway servers. A failure here is not fatal: unit-only runs need no services, and every test that does need
// one gets the same explanatory error from services.ts in its worker.
// It also makes the databases every test's new one copies (prisma/database.ts, TEMPLATE_ENV), once per run.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dropTemplates, TEMPLATE_ENV, type Templates } from '../../prisma/database.ts'
import { mysqlUrl, postgresUrl, redisUrl, stopAll } from './services.ts'

export default async function setup() {
  const [redis, postgres, mysql] = await Promise.allSettled([redisUrl(), postgresUrl(), mysqlUrl()])
  if (redis.status === 'fulfilled') process.env.REDIS_URL = redis.value
  if (postgres.status === 'fulfilled') process.env.DATABASE_URL = postgres.value
  if (mysql.status === 'fulfilled') process.env.MYSQL_URL = mysql.value
  const server = postgres.status === 'fulfilled' ? postgres.value : undefined
  const script = fileURLToPath(new URL('./make-templates.ts', import.meta.url))
  const made = execFileSync(process.execPath, ['--import', 'tsx', script, server ?? ''], { encoding: 'utf8' })
  const templates = JSON.parse(made) as Templates
  process.env[TEMPLATE_ENV.sqlite] = templates.sqlite
  if (templates.postgres) process.env[TEMPLATE_ENV.postgres] = templates.postgres
  return async () => {
    await dropTemplates(templates, server)
    await stopAll()
  }
}
