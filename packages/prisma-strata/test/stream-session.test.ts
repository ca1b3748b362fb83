// The position a change-stream session confirms (design invariant 14, docs/design.md): only after the bumps of every
// change up to it are in Redis, never inside a transaction, exactly (the service adds one to what it is given).
import { describe, expect, it } from 'vitest'
import { parseLsn } from '../src/changes/lsn'
import type { ReplicationService } from '../src/changes/postgres'
import { Session, type SessionHost } from '../src/changes/stream-session'

function setup() {
  const acks: string[] = []
  const bumps: string[][] = []
  const failures: unknown[] = []
  let owed = new Set<string>()
  let release: (() => void) | undefined
  let hold = false
  const service = {
    acknowledge: async (lsn: string) => {
      acks.push(lsn)
      return true
    },
  } as unknown as ReplicationService
  const host: SessionHost = {
    counters: { transactions: 0 },
    modelsOf: (_schema, table) => (table === 'Post' ? ['Post', 'Comment'] : table === 'User' ? ['User'] : []),
    rowRequests: (_schema, table, message) =>
      table === 'User' && message.new
        ? { model: 'User', requests: [`q:User|${JSON.stringify(message.new)}`] }
        : undefined,
    namesFor: (models, predicates) => [
      ...[...models].sort().map((m) => `m:${m}`),
      ...[...predicates].sort().map((m) => `e:${m}`),
    ],
    bump: (names) => {
      bumps.push([...names])
      if (!hold) return Promise.resolve()
      return new Promise<void>((resolve) => {
        release = resolve
      })
    },
    owes: (names) => names.some((n) => owed.has(n)),
    fail: (_session, error) => failures.push(error),
  }
  const session = new Session(service, host)
  const tick = () => new Promise((r) => setTimeout(r, 40))
  const transaction = (tables: string[], end: string) => {
    session.message({ tag: 'begin' })
    for (const name of tables) session.message({ tag: 'update', relation: { schema: 'public', name } })
    session.message({ tag: 'commit', commitEndLsn: end, commitTime: BigInt(Date.now()) * 1000n })
  }
  return {
    session,
    host,
    acks,
    bumps,
    failures,
    tick,
    transaction,
    owe: (names: string[]) => {
      owed = new Set(names)
    },
    hold: (on: boolean) => {
      hold = on
    },
    release: () => release?.(),
  }
}

/** The position PostgreSQL records for an acknowledgement: what was sent, plus one. */
const recorded = (sent: string) => parseLsn(sent) + 1n

describe('change stream session', () => {
  it('bumps what a transaction touched, then confirms exactly its end', async () => {
    const t = setup()
    t.transaction(['Post', 'AuditTable'], '0/1A0')
    await t.tick()
    expect(t.bumps).toEqual([['m:Comment', 'm:Post', 'e:Comment', 'e:Post']])
    expect(t.acks.map(recorded)).toEqual([0x1a0n])
    expect(t.host.counters.transactions).toBe(1)
  })

  it('does not confirm while a bump is owed, and confirms once it lands', async () => {
    const t = setup()
    t.owe(['m:User'])
    t.transaction(['User'], '0/200')
    await t.tick()
    expect(t.bumps).toHaveLength(1)
    expect(t.acks).toEqual([])
    // Keepalives meanwhile neither confirm past it nor before it.
    t.session.heartbeat('0/300', true)
    await t.tick()
    expect(t.acks).toEqual([])
    t.owe([])
    await t.tick()
    expect(t.acks.map(recorded)).toEqual([0x200n, 0x300n])
  })

  it('never confirms a keepalive inside a transaction; between transactions, after the batch before it', async () => {
    const t = setup()
    t.session.message({ tag: 'begin' })
    t.session.message({ tag: 'insert', relation: { schema: 'public', name: 'User' } })
    t.session.heartbeat('0/500', false)
    await t.tick()
    expect(t.acks).toEqual([])
    expect(t.bumps).toEqual([])
    t.session.message({ tag: 'commit', commitEndLsn: '0/600', commitTime: 0n })
    await t.tick()
    expect(t.acks.map(recorded)).toEqual([0x600n])
    t.session.heartbeat('0/700', false)
    await t.tick()
    expect(t.acks.map(recorded)).toEqual([0x600n, 0x700n])
    expect(t.bumps).toHaveLength(1)
  })

  it('gathers what arrives during a bump into the next one, and confirms in order', async () => {
    const t = setup()
    t.hold(true)
    t.transaction(['User'], '0/100')
    await t.tick()
    t.transaction(['Post'], '0/200')
    t.transaction(['User'], '0/300')
    await t.tick()
    expect(t.bumps).toEqual([['m:User', 'e:User']])
    expect(t.acks).toEqual([])
    t.hold(false)
    t.release()
    await t.tick()
    expect(t.bumps).toEqual([
      ['m:User', 'e:User'],
      ['m:Comment', 'm:Post', 'm:User', 'e:Comment', 'e:Post', 'e:User'],
    ])
    expect(t.acks.map(recorded)).toEqual([0x100n, 0x300n])
  })

  it('a transaction that touches no model still moves the position; a rolled-back one never arrives', async () => {
    const t = setup()
    t.transaction(['_prisma_migrations'], '0/900')
    await t.tick()
    expect(t.bumps).toEqual([])
    expect(t.acks.map(recorded)).toEqual([0x900n])
  })

  it('rows known in full bump their predicates, not every predicate of the model, unless another change did', async () => {
    const t = setup()
    t.session.message({ tag: 'begin' })
    t.session.message({ tag: 'insert', relation: { schema: 'public', name: 'User' }, new: { id: 1 } })
    t.session.message({ tag: 'commit', commitEndLsn: '0/100', commitTime: 0n })
    await t.tick()
    expect(t.bumps).toEqual([['m:User', 'q:User|{"id":1}']])
    t.hold(true)
    t.transaction(['Post'], '0/200')
    await t.tick()
    // Two transactions in the next batch: one knows its row, the other does not; the model loses every predicate.
    t.session.message({ tag: 'begin' })
    t.session.message({ tag: 'insert', relation: { schema: 'public', name: 'User' }, new: { id: 2 } })
    t.session.message({ tag: 'commit', commitEndLsn: '0/300', commitTime: 0n })
    t.transaction(['User'], '0/400')
    t.hold(false)
    t.release()
    await t.tick()
    expect(t.bumps.at(-1)).toEqual(['m:User', 'e:User'])
    expect(t.acks.map(recorded)).toEqual([0x100n, 0x200n, 0x400n])
  })

  it('an ended session confirms nothing more', async () => {
    const t = setup()
    t.owe(['m:User'])
    t.transaction(['User'], '0/100')
    await t.tick()
    t.session.ended = true
    t.owe([])
    await t.tick()
    t.session.heartbeat('0/200', true)
    expect(t.acks).toEqual([])
    expect(t.failures).toEqual([])
  })
})
