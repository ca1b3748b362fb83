// A PostgreSQL database put back to a saved state in one short script, so a test file can reuse one database for
// many tests instead of making (`CREATE DATABASE`) and dropping one per test. `snapshot` saves every row of the
// public schema's tables (into a schema of its own, `strata_snapshot`) and every sequence's position; databases
// copied from the snapshotted one (`TEMPLATE`) carry that saved state with them. `restore` empties the tables and
// copies the saved rows back, then puts the sequences back where they were.
import { withPostgres } from '../../prisma/database.ts'

const schema = 'strata_snapshot'

export interface Snapshot {
  /** Puts the rows and sequences of the database at `url` back to the saved state. */
  restore(url: string): Promise<void>
  /**
   * The public schema's objects (relations, columns, triggers, functions, types): a database whose fingerprint
   * differs from the snapshotted one's was changed beyond its rows (a test created a trigger or a table) and must
   * not be reused.
   */
  fingerprint(url: string): Promise<string>
}

const fingerprintSql = `
SELECT coalesce(string_agg(x, ',' ORDER BY x), '') AS f FROM (
  SELECT 'r:' || c.relkind::text || ':' || c.relname AS x FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL SELECT 'a:' || c.relname || '.' || a.attname || ':' || a.atttypid::regtype::text
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL SELECT 't:' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
  UNION ALL SELECT 'p:' || p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
  UNION ALL SELECT 'y:' || t.typname FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace
) s`

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`

/** Saves the rows and sequences of the database at `url` (inside it), and returns how to restore them. */
export async function snapshot(url: string): Promise<Snapshot> {
  const script = await withPostgres(url, async (c) => {
    const tables = (
      await c.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`)
    ).rows.map((r) => r.name)
    const sequences = (
      await c.query<{ name: string }>(`SELECT sequencename AS name FROM pg_sequences WHERE schemaname = 'public'`)
    ).rows.map((r) => r.name)
    await c.query(`CREATE SCHEMA ${schema}`)
    for (const t of tables) await c.query(`CREATE TABLE ${schema}.${quote(t)} AS TABLE public.${quote(t)}`)
    const positions: string[] = []
    for (const s of sequences) {
      const { rows } = await c.query<{ last_value: string; is_called: boolean }>(
        `SELECT last_value, is_called FROM public.${quote(s)}`,
      )
      const row = rows[0] as { last_value: string; is_called: boolean }
      positions.push(`SELECT setval('public.${quote(s)}', ${row.last_value}, ${row.is_called});`)
    }
    // Foreign keys are triggers: `replica` skips them while the rows go back, in whatever order the tables come.
    return [
      'BEGIN;',
      `TRUNCATE ${tables.map((t) => `public.${quote(t)}`).join(', ')} CASCADE;`,
      'SET LOCAL session_replication_role = replica;',
      ...tables.map((t) => `INSERT INTO public.${quote(t)} SELECT * FROM ${schema}.${quote(t)};`),
      ...positions,
      'COMMIT;',
    ].join('\n')
  })
  return {
    restore: (target) => withPostgres(target, (c) => c.query(script).then(() => undefined)),
    fingerprint: (target) =>
      withPostgres(target, async (c) => (await c.query<{ f: string }>(fingerprintSql)).rows[0]?.f ?? ''),
  }
}
