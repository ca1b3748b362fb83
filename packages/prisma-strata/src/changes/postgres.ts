/**
 * The PostgreSQL side of following changes: the optional packages (`pg`, `pg-logical-replication`), loaded only
 * when `changes` is configured, and the checks of what the stream needs (`wal_level`, the slot, the publication),
 * shared by the follower and `npx prisma-strata changes setup`.
 */

export interface PgClient {
  connect(): Promise<unknown>
  query(sql: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>
  end(): Promise<void>
  on(event: 'error', listener: (error: Error) => void): unknown
}

type PgModule = { Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => PgClient }

/** What the follower uses of `pg-logical-replication`. */
export interface ReplicationModule {
  LogicalReplicationService: new (
    client: { connectionString: string },
    config: { acknowledge: { auto: boolean; timeoutSeconds: number } },
  ) => ReplicationService
  PgoutputPlugin: new (options: { protoVersion: 1; publicationNames: string[] }) => unknown
}

export interface ReplicationService {
  on(event: 'data', listener: (lsn: string, message: Record<string, unknown>) => void): unknown
  on(event: 'heartbeat', listener: (lsn: string, timestamp: number, shouldRespond: boolean) => void): unknown
  on(event: 'start', listener: () => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  subscribe(plugin: unknown, slot: string, startLsn: string): Promise<unknown>
  acknowledge(lsn: string, ping?: boolean): Promise<boolean>
  stop(): Promise<unknown>
  removeAllListeners(): unknown
}

/** A CommonJS package's exports, as Node (under `default`) or a bundler (named) hands them to `import()`. */
function exportsOf<T>(module: unknown, name: string): T {
  const named = module as Record<string, unknown>
  return (name in named ? named : (named.default as Record<string, unknown>)) as T
}

const install = 'npm i pg-logical-replication pg'

let pgModule: Promise<PgModule> | undefined
let replicationModule: Promise<ReplicationModule> | undefined

/** `pg`, or an error saying how to install it. */
export function loadPg(): Promise<PgModule> {
  pgModule ??= import('pg').then(
    (module) => exportsOf<PgModule>(module, 'Client'),
    (error: unknown) => {
      throw new Error(`\`changes.postgres\` needs the package \`pg\`: ${install}`, { cause: error })
    },
  )
  return pgModule
}

/** `pg-logical-replication`, or an error saying how to install it. */
export function loadReplication(): Promise<ReplicationModule> {
  replicationModule ??= import('pg-logical-replication').then(
    (module) => exportsOf<ReplicationModule>(module, 'LogicalReplicationService'),
    (error: unknown) => {
      throw new Error(`\`changes.postgres\` needs the package \`pg-logical-replication\`: ${install}`, {
        cause: error,
      })
    },
  )
  return replicationModule
}

/** Runs `work` on a new connection, closed afterwards. */
export async function withClient<T>(connectionString: string, work: (client: PgClient) => Promise<T>): Promise<T> {
  const { Client } = await loadPg()
  const client = new Client({ connectionString, connectionTimeoutMillis: 10_000 })
  client.on('error', () => {}) // a dropped idle connection: the query in progress fails and says why
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Where managed providers set `wal_level`: the remedy a user needs when it is not `logical`. */
export const walLevelRemedy = [
  'Set wal_level = logical and restart PostgreSQL (postgresql.conf, or ALTER SYSTEM SET wal_level = logical).',
  'Managed providers: Amazon RDS / Aurora: rds.logical_replication = 1 in the DB (cluster) parameter group, then reboot;',
  'Google Cloud SQL: the database flag cloudsql.logical_decoding = on;',
  'Azure Database for PostgreSQL (flexible server): the server parameter wal_level = logical, then restart;',
  'Supabase: logical already (nothing to change); Neon: enable "logical replication" in the project settings.',
].join('\n  ')

/** What the server says about the slot and publication `changes` follows. */
export interface SlotStatus {
  walLevel: string
  database: string
  /** The schema unqualified table names resolve to on this connection (its search_path). */
  schema: string | undefined
  slot:
    | { plugin: string; slotType: string; database: string | null; active: boolean; lagBytes: number | undefined }
    | undefined
  publication: boolean
}

export async function slotStatus(client: PgClient, slot: string, publication: string): Promise<SlotStatus> {
  const { rows } = await client.query(
    `SELECT current_setting('wal_level') AS wal_level, current_database() AS database, current_schema() AS schema,
       EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $2) AS publication,
       s.plugin, s.slot_type, s.database AS slot_database, s.active,
       CASE WHEN pg_is_in_recovery() THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::text END AS lag_bytes
     FROM (SELECT 1) one LEFT JOIN pg_replication_slots s ON s.slot_name = $1`,
    [slot, publication],
  )
  const row = rows[0] ?? {}
  return {
    walLevel: String(row.wal_level),
    database: String(row.database),
    schema: typeof row.schema === 'string' ? row.schema : undefined,
    publication: row.publication === true,
    slot:
      row.plugin === null || row.plugin === undefined
        ? undefined
        : {
            plugin: String(row.plugin),
            slotType: String(row.slot_type),
            database: row.slot_database === null ? null : String(row.slot_database),
            active: row.active === true,
            lagBytes: row.lag_bytes === null ? undefined : Number(row.lag_bytes),
          },
  }
}

/** What is wrong with `status` for following `slot` and `publication`, or undefined when nothing is. */
export function statusProblem(status: SlotStatus, slot: string, publication: string): string | undefined {
  const setup =
    'Run `npx prisma-strata changes setup --url <database url>` (or the SQL in the README, "Writes from outside Prisma").'
  if (status.walLevel !== 'logical') {
    return `wal_level is "${status.walLevel}", not "logical": PostgreSQL keeps no change stream to follow.\n  ${walLevelRemedy}`
  }
  if (!status.slot) return `the replication slot "${slot}" does not exist. ${setup}`
  if (status.slot.slotType !== 'logical' || status.slot.plugin !== 'pgoutput') {
    return `the replication slot "${slot}" is not a logical slot of the pgoutput plugin (${status.slot.slotType}, ${status.slot.plugin}). Drop it and run the setup again.`
  }
  if (status.slot.database !== status.database) {
    return `the replication slot "${slot}" belongs to database "${status.slot.database}", not "${status.database}" (the database of changes.postgres.connectionString).`
  }
  if (!status.publication)
    return `the publication "${publication}" does not exist in database "${status.database}". ${setup}`
  return undefined
}

/**
 * The schema the datasource's unqualified table names resolve to: the URL's `schema=` (as Prisma's own URLs say
 * it), else the connection's current schema (its search_path), else `public`.
 */
export function defaultSchema(connectionString: string, status: SlotStatus): string {
  let named: string | null = null
  try {
    named = new URL(connectionString).searchParams.get('schema')
  } catch {
    // Validated as a postgres URL by the options; a URL the parser refuses names no schema.
  }
  return named || status.schema || 'public'
}
