/**
 * `npx prisma-strata changes setup|drop`: what following changes needs on the database, made by its owner once:
 * `wal_level = logical` checked (it needs a restart, so it is only said how to set), the publication of every table
 * and the pgoutput slot created. Idempotent: what exists is left as it is, and checked.
 */
import { type PgClient, slotStatus, statusProblem, walLevelRemedy } from './postgres'

export interface SetupTarget {
  slot: string
  publication: string
}

/** Quotes an identifier (the names are checked to be plain, but a quote costs nothing). */
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`

/** Creates the publication and the slot where missing; returns what it did, or throws saying what to change. */
export async function setup(client: PgClient, { slot, publication }: SetupTarget): Promise<string[]> {
  const done: string[] = []
  const walLevel = String((await client.query('SHOW wal_level')).rows[0]?.wal_level)
  if (walLevel !== 'logical') {
    throw new Error(`wal_level is "${walLevel}", not "logical".\n  ${walLevelRemedy}`)
  }
  const { rows: pubs } = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication])
  if (pubs.length === 0) {
    // Every table, tables created later included; a partitioned table's changes under its own name, not its
    // partitions', which no model maps.
    await client.query(
      `CREATE PUBLICATION ${ident(publication)} FOR ALL TABLES WITH (publish_via_partition_root = true)`,
    )
    done.push(`created publication "${publication}" FOR ALL TABLES`)
  }
  const { rows: slots } = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])
  if (slots.length === 0) {
    await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot])
    done.push(`created logical replication slot "${slot}" (pgoutput)`)
  }
  const problem = statusProblem(await slotStatus(client, slot, publication), slot, publication)
  if (problem) throw new Error(problem)
  return done
}

/** Drops the slot (so the server stops keeping WAL for it) and the publication. */
export async function drop(client: PgClient, { slot, publication }: SetupTarget): Promise<string[]> {
  const done: string[] = []
  const { rows } = await client.query('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot])
  if (rows.length > 0) {
    if (rows[0]?.active_pid !== null) {
      throw new Error(
        `the slot "${slot}" is being followed (pid ${rows[0]?.active_pid}): stop the instances that follow it (or remove \`changes\` from their options) first.`,
      )
    }
    await client.query('SELECT pg_drop_replication_slot($1)', [slot])
    done.push(`dropped replication slot "${slot}"`)
  }
  const { rows: pubs } = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication])
  if (pubs.length > 0) {
    await client.query(`DROP PUBLICATION ${ident(publication)}`)
    done.push(`dropped publication "${publication}"`)
  }
  return done
}
