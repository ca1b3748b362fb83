#!/usr/bin/env node
/**
 * `npx prisma-strata changes setup --url <database url> [--slot strata] [--publication strata]`: prepares a
 * PostgreSQL database for `cache({ changes })`. `changes drop` removes the slot and the publication again.
 */
import { withClient } from './changes/postgres'
import { drop, setup } from './changes/setup'

const usage = `Usage:
  prisma-strata changes setup --url <postgresql://...> [--slot strata] [--publication strata]
  prisma-strata changes drop  --url <postgresql://...> [--slot strata] [--publication strata]

setup checks that wal_level is logical and creates the publication (FOR ALL TABLES) and the logical replication
slot (pgoutput) that cache({ changes: { postgres: { connectionString } } }) follows. The URL's user must be allowed
to create them (a superuser, or rds_superuser / cloudsqlsuperuser / azure_pg_admin on managed servers).
drop removes both: the server stops keeping WAL for the slot. --url defaults to $DATABASE_URL.`

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`)
  if (i >= 0) return args[i + 1]
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
}

async function main(args: string[]): Promise<number> {
  const [group, command] = args
  if (group !== 'changes' || (command !== 'setup' && command !== 'drop')) {
    console.error(usage)
    return args.includes('--help') || args.includes('-h') ? 0 : 2
  }
  const url = option(args, 'url') ?? process.env.DATABASE_URL
  const slot = option(args, 'slot') ?? 'strata'
  const publication = option(args, 'publication') ?? 'strata'
  if (!url) {
    console.error(`--url (or DATABASE_URL) is required.\n\n${usage}`)
    return 2
  }
  for (const [name, value] of [
    ['slot', slot],
    ['publication', publication],
  ]) {
    if (!/^[a-z0-9_]{1,63}$/.test(value as string)) {
      console.error(`--${name} must be 1-63 characters of a-z 0-9 _, got ${JSON.stringify(value)}`)
      return 2
    }
  }
  try {
    const done = await withClient(url, (client) =>
      command === 'setup' ? setup(client, { slot, publication }) : drop(client, { slot, publication }),
    )
    for (const line of done) console.log(line)
    if (command === 'setup') {
      console.log(`ready: slot "${slot}" and publication "${publication}" exist, wal_level is logical.`)
    } else if (done.length === 0) console.log('nothing to drop.')
    return 0
  } catch (error) {
    console.error(`prisma-strata changes ${command} failed: ${(error as Error).message}`)
    return 1
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
