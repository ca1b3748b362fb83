// Resolves Redis, PostgreSQL and MySQL/MariaDB once per vitest run, in the main process, and passes the URLs to the forked workers
// through the environment (workers read REDIS_URL / DATABASE_URL / MYSQL_URL first). Without this, each worker would start its
// own throwaway servers. A failure here is not fatal: unit-only runs need no services, and every test that does need
// one gets the same explanatory error from services.ts in its worker.
import { mysqlUrl, postgresUrl, redisUrl, stopAll } from './services.ts'

export default async function setup() {
  const [redis, postgres, mysql] = await Promise.allSettled([redisUrl(), postgresUrl(), mysqlUrl()])
  if (redis.status === 'fulfilled') process.env.REDIS_URL = redis.value
  if (postgres.status === 'fulfilled') process.env.DATABASE_URL = postgres.value
  if (mysql.status === 'fulfilled') process.env.MYSQL_URL = mysql.value
  return stopAll
}
