// Starts the API.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres pnpm --filter http-api start --demo
//       a throwaway database on that server, with the tables and a few rows, dropped on exit
//   DATABASE_URL=postgresql://user@host/mydb pnpm --filter http-api start
//       your own database, with the tables of prisma/models.prisma
//
// REDIS_URL=redis://127.0.0.1:6379 adds the Redis tier (several instances then share entries and ETags);
// PORT (default 3000) and HOST (default 127.0.0.1) say where to listen.
import { pathToFileURL } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { buildApp } from './app.ts'
import { type AppPrisma, closePrisma, createPrisma } from './prisma.ts'
import { seed } from './seed.ts'

export interface StartOptions {
  env?: NodeJS.ProcessEnv
  argv?: string[]
  log?: (line: string) => void
}

export interface Running {
  app: FastifyInstance
  prisma: AppPrisma
  url: string
  close(): Promise<void>
}

export class ConfigurationError extends Error {}

const usage = `DATABASE_URL is not set. Give the API a PostgreSQL database, for example:

  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres pnpm --filter http-api start --demo

With --demo, DATABASE_URL names a server (its user may CREATE DATABASE): the API makes a throwaway database there,
with the tables of prisma/models.prisma and a few rows, and drops it on exit. Without --demo, DATABASE_URL is your
own database, which must already have those tables. Add REDIS_URL=redis://127.0.0.1:6379 for the Redis tier.`

export async function start({ env = process.env, argv = [], log = console.log }: StartOptions = {}): Promise<Running> {
  const serverOrDatabase = env.DATABASE_URL
  if (!serverOrDatabase) throw new ConfigurationError(usage)
  const demo = argv.includes('--demo')
  const port = Number(env.PORT ?? 3000)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigurationError(`PORT=${env.PORT} is not a port`)

  let drop: (() => Promise<void>) | undefined
  let databaseUrl = serverOrDatabase
  let prefix = env.STRATA_PREFIX ?? 'http-api'
  if (demo) {
    // prisma/database.ts creates the tables offline (the schema engine compiled to WebAssembly); `pnpm generate` first.
    const { createPostgresDatabase } = await import('../../../prisma/database.ts')
    const db = await createPostgresDatabase(serverOrDatabase)
    databaseUrl = db.url
    drop = () => db.drop()
    // A new database must not meet entries of an earlier one in Redis: a prefix of its own.
    prefix = `${prefix}-${db.url.split('/').at(-1)}`
  }

  const registry = new Registry()
  const prisma = createPrisma({ databaseUrl, redisUrl: env.REDIS_URL, prefix, registry })
  const app = buildApp({ prisma, registry, redis: Boolean(env.REDIS_URL), logger: env.LOG === '1' })
  const close = async () => {
    await app.close()
    await closePrisma(prisma)
    await drop?.()
  }
  try {
    if (demo) {
      const seeded = await seed(prisma)
      log(
        `demo database ${databaseUrl.replace(/\/\/[^@]*@/, '//')} with users ${Object.values(seeded.users).join(', ')}`,
      )
    } else {
      await prisma.user.count({ cache: false }).catch((error: { code?: string }) => {
        if (error.code === 'P2021') {
          throw new ConfigurationError(
            `The database at DATABASE_URL has no tables of prisma/models.prisma. Create them (prisma db push / migrate),\nor run with --demo to get a throwaway database on that server.`,
          )
        }
        throw error
      })
    }
    const url = await app.listen({ port, host: env.HOST ?? '127.0.0.1' })
    log(`http-api listening on ${url} (${env.REDIS_URL ? 'Redis + in-process tiers' : 'in-process tier only'})`)
    return { app, prisma, url, close }
  } catch (error) {
    await close()
    throw error
  }
}

async function main(): Promise<void> {
  let running: Running
  try {
    running = await start({ argv: process.argv.slice(2) })
  } catch (error) {
    console.error(error instanceof ConfigurationError ? error.message : error)
    process.exit(1)
  }
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`${signal}: closing`)
    running.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
