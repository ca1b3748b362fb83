// ADVERSARY: membership versions for counts (a count over exactly a predicate depends on `c:`, bumped when a row may
// enter or leave it) and guarded foreign-key moves (an update setting a key reads the old value first and is sent
// with `AND: [{ key: old }]`). Every count below is cached, then a write goes through the cached client, then every
// count must equal the uncached client's on the same database. Moves must not change what the caller sees: the
// result, the error, the rows changed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { gate } from '../support/hold-statement.ts'
import { matrix, type Setup, setupCase } from '../support/matrix.ts'
import {
  any,
  type Cached,
  type PreciseWorld,
  type Provider,
  preciseWorld,
  type Raw,
  type Read,
  settle,
  show,
  sleep,
  usePreciseDatabases,
} from './precise-database.ts'
import { sliceOfRun } from './slice-of-run.ts'

usePreciseDatabases()

const counts = (list: Array<[string, object]>, of: (p: Raw) => { count: (a: object) => PromiseLike<number> }) =>
  list.map(([name, args]): Read => [name, (p) => of(p).count(args)])

const relationCounts = (id: number): Read => [
  `_counts of account ${id}`,
  (p) =>
    p.account.findUnique({
      where: { id },
      select: {
        _count: {
          select: {
            notes: true,
            mentees: true,
            handleNotes: true,
            buddyOf: true,
            pins: true,
            groups: true,
          },
        },
      },
    } as never),
]

const reads: Read[] = [
  ...counts(
    [
      ['notes of 1', { where: { ownerId: 1 } }],
      ['notes of 2', { where: { ownerId: 2 } }],
      ['notes of 3', { where: { ownerId: 3 } }],
      ['notes without owner', { where: { ownerId: null } }],
      ['notes of 1 or 2', { where: { ownerId: { in: [1, 2] } } }],
      ['notes of 1 (equals)', { where: { ownerId: { equals: 1 } } }],
      ['notes by ann', { where: { ownerHandle: 'ann' } }],
      ['notes by bob', { where: { ownerHandle: 'bob' } }],
      ['notes by no handle', { where: { ownerHandle: null } }],
      ['notes on A/1', { where: { shelfCode: 'A', shelfNo: 1 } }],
      ['notes on A/2', { where: { shelfCode: 'A', shelfNo: 2 } }],
      ['pinned notes', { where: { pinned: true } }],
      ['unpinned notes of 1', { where: { ownerId: 1, pinned: false } }],
      ['unpinned notes of 1 (AND)', { where: { AND: [{ ownerId: 1 }, { pinned: false }] } }],
      ['PRO notes', { where: { kind: 'PRO' } }],
      ['notes titled a', { where: { title: 'a' } }],
      ['notes of 1 titled a', { where: { ownerId: 1, title: 'a' } }],
      ['notes of 1 ranked', { where: { ownerId: 1, rank: { gt: 0 } } }],
      ['notes of 1 with an a', { where: { ownerId: 1, title: { contains: 'a' } } }],
      ['notes of 1 not 2', { where: { ownerId: 1, NOT: { ownerId: 2 } } }],
      ['notes of 1, OR', { where: { OR: [{ ownerId: 1 }] } }],
      ['notes of 1 whose owner is active', { where: { ownerId: 1, owner: { active: true } } }],
      ['note 3', { where: { id: 3 } }],
      ['notes 1 and 3', { where: { id: { in: [1, 3] } } }],
      ['note 3 of 2', { where: { id: 3, ownerId: 2 } }],
      ['all notes', {}],
      ['all notes (_all)', { select: { _all: true } }],
      ['notes of 1 (_all)', { where: { ownerId: 1 }, select: { _all: true } }],
      ['notes of 1 with a handle (select field)', { where: { ownerId: 1 }, select: { ownerHandle: true } }],
      ['notes of 1, _all and handle', { where: { ownerId: 1 }, select: { _all: true, ownerHandle: true } }],
      ['notes of 1 with a shelf', { where: { ownerId: 1 }, select: { shelfCode: true } }],
      ['notes without owner with a handle', { where: { ownerId: null }, select: { ownerHandle: true } }],
      ['notes of 1, take 1', { where: { ownerId: 1 }, take: 1 }],
      ['notes of 1, skip 1', { where: { ownerId: 1 }, skip: 1, orderBy: { id: 'asc' } }],
    ],
    (p) => p.note as never,
  ),
  ...counts(
    [
      ['mentees of 1', { where: { mentorId: 1 } }],
      ['mentees of 2', { where: { mentorId: 2 } }],
      ['buddies of ann', { where: { buddyHandle: 'ann' } }],
      ['buddies of bob', { where: { buddyHandle: 'bob' } }],
      ['PRO accounts', { where: { tier: 'PRO' } }],
      ['inactive accounts', { where: { active: false } }],
      ['accounts with mentor (select)', { select: { mentorId: true } }],
    ],
    (p) => p.account as never,
  ),
  ...counts(
    [
      ['pins of 1', { where: { accountId: 1 } }],
      ['pins of 2', { where: { accountId: 2 } }],
      ['pins of note 3', { where: { noteId: 3 } }],
      ['pin 1/3', { where: { accountId: 1, noteId: 3 } }],
    ],
    (p) => p.pin as never,
  ),
  ...counts(
    [
      ['profiles of 1', { where: { accountId: 1 } }],
      ['profiles of 2', { where: { accountId: 2 } }],
    ],
    (p) => p.profile as never,
  ),
  relationCounts(1),
  relationCounts(2),
  relationCounts(3),
  [
    '_count with where of account 1',
    (p) =>
      p.account.findUnique({
        where: { id: 1 },
        select: {
          _count: {
            select: {
              notes: { where: { pinned: false } },
              mentees: { where: { active: true } },
              handleNotes: { where: { title: 'a' } },
              pins: { where: { weight: 1 } },
            },
          },
        },
      }),
  ],
  [
    '_count with non-equality where of account 1',
    (p) =>
      p.account.findUnique({
        where: { id: 1 },
        select: {
          _count: {
            select: {
              notes: { where: { rank: { gt: 0 } } },
              mentees: { where: { handle: { contains: 'y' } } },
            },
          },
        },
      }),
  ],
  [
    '_count with where of account 2',
    (p) =>
      p.account.findUnique({
        where: { id: 2 },
        select: { _count: { select: { notes: { where: { pinned: true } }, mentees: { where: { active: false } } } } },
      }),
  ],
  [
    '_count of ann by handle',
    (p) =>
      p.account.findUnique({
        where: { handle: 'ann' },
        select: { id: true, _count: { select: { handleNotes: true, buddyOf: true } } },
      }),
  ],
  [
    '_count of bob by handle',
    (p) => p.account.findUnique({ where: { handle: 'bob' }, select: { _count: { select: { handleNotes: true } } } }),
  ],
  [
    'mentees of 1 with their _counts',
    (p) =>
      p.account.findMany({
        where: { mentorId: 1 },
        orderBy: { id: 'asc' },
        select: { id: true, _count: { select: { notes: true, mentees: true } } },
      }),
  ],
  [
    'accounts 1,2 with _count include',
    (p) =>
      p.account.findMany({
        where: { id: { in: [1, 2] } },
        orderBy: { id: 'asc' },
        include: { _count: true },
        omit: { updatedAt: true },
      }),
  ],
  [
    'shelf A/1 _count',
    (p) => p.shelf.findUnique({ where: { code_no: { code: 'A', no: 1 } }, select: { _count: true } }),
  ],
  [
    'shelf A/2 _count',
    (p) => p.shelf.findUnique({ where: { code_no: { code: 'A', no: 2 } }, select: { _count: true } }),
  ],
  [
    'note 3 _count',
    (p) => p.note.findUnique({ where: { id: 3 }, select: { _count: { select: { pins: true, tags: true } } } }),
  ],
  ['aggregate _count of 1', (p) => p.note.aggregate({ where: { ownerId: 1 }, _count: true })],
  [
    'aggregate _count fields of 1',
    (p) => p.note.aggregate({ where: { ownerId: 1 }, _count: { _all: true, ownerHandle: true, shelfNo: true } }),
  ],
  [
    'groupBy owner _count',
    (p) => p.note.groupBy({ by: ['ownerId'], _count: { _all: true, ownerHandle: true }, orderBy: { ownerId: 'asc' } }),
  ],
  [
    'groupBy owner of 1 _count',
    (p) => p.note.groupBy({ by: ['ownerId'], where: { ownerId: 1 }, _count: true, orderBy: { ownerId: 'asc' } }),
  ],
  [
    'owner of note 3 with its _count',
    (p) =>
      p.note.findUnique({
        where: { id: 3 },
        select: { owner: { select: { id: true, _count: { select: { notes: true, mentees: true } } } } },
      }),
  ],
  [
    'mentees of 1 with their note _counts (nested)',
    (p) =>
      p.account.findUnique({
        where: { id: 1 },
        select: { mentees: { orderBy: { id: 'asc' }, select: { id: true, _count: { select: { notes: true } } } } },
      }),
  ],
  ['fluent notes count of 1', (p) => any(p.account.findUnique({ where: { id: 1 } })).notes({ select: { id: true } })],
]

type Attack = [name: string, run: (p: Cached) => PromiseLike<unknown>]

const attacks: Attack[] = [
  // Scalar moves: the guarded path.
  ['move note 3 from 2 to 1', (p) => p.note.update({ where: { id: 3 }, data: { ownerId: 1 } })],
  ['move note 1 from 1 to none', (p) => p.note.update({ where: { id: 1 }, data: { ownerId: null } })],
  ['move note 4 from none to 2', (p) => p.note.update({ where: { id: 4 }, data: { ownerId: 2 } })],
  ['move note 1 to 1 (same key)', (p) => p.note.update({ where: { id: 1 }, data: { ownerId: 1 } })],
  ['move note 3 with { set }', (p) => p.note.update({ where: { id: 3 }, data: { ownerId: { set: 1 } } })],
  ['move note 3 with { increment }', (p) => p.note.update({ where: { id: 3 }, data: { ownerId: { increment: 1 } } })],
  ['move note 2 with { decrement }', (p) => p.note.update({ where: { id: 2 }, data: { ownerId: { decrement: 1 } } })],
  ['move note 1 by handle to bob', (p) => p.note.update({ where: { id: 1 }, data: { ownerHandle: 'bob' } })],
  ['move note 1 by handle to none', (p) => p.note.update({ where: { id: 1 }, data: { ownerHandle: null } })],
  [
    'move note 3 and its handle',
    (p) => p.note.update({ where: { id: 3 }, data: { ownerId: 1, ownerHandle: 'ann', pinned: false } }),
  ],
  ['move note 3 and unpin it', (p) => p.note.update({ where: { id: 3 }, data: { ownerId: 1, pinned: false } })],
  ['move note 3 and retitle', (p) => p.note.update({ where: { id: 3 }, data: { ownerId: 1, title: 'a' } })],
  [
    'move note 1 to shelf A/2 (half a compound key)',
    async (p) => {
      await p.shelf.create({ data: { code: 'A', no: 2, label: 'two' } })
      return p.note.update({ where: { id: 1 }, data: { shelfNo: 2 } })
    },
  ],
  [
    'move note 2 onto shelf A/1 (compound key)',
    (p) => p.note.update({ where: { id: 2 }, data: { shelfCode: 'A', shelfNo: 1 } }),
  ],
  ['move mentee 3 from 1 to 2 (self)', (p) => p.account.update({ where: { id: 3 }, data: { mentorId: 2 } })],
  ['move mentee 3 by handle where', (p) => p.account.update({ where: { handle: 'cyd' }, data: { mentorId: 2 } })],
  ['account 1 mentors itself', (p) => p.account.update({ where: { id: 1 }, data: { mentorId: 1 } })],
  ['move buddy 3 from ann to bob', (p) => p.account.update({ where: { id: 3 }, data: { buddyHandle: 'bob' } })],
  [
    'move buddy 3 and rename 3',
    (p) => p.account.update({ where: { id: 3 }, data: { buddyHandle: 'bob', handle: 'cyd2' } }),
  ],
  [
    'move pin 1/3 to account 2 (key in the id)',
    (p) => p.pin.update({ where: { accountId_noteId: { accountId: 1, noteId: 3 } }, data: { accountId: 2 } }),
  ],
  [
    'move pin 1/3 to note 1',
    (p) => p.pin.update({ where: { accountId_noteId: { accountId: 1, noteId: 3 } }, data: { noteId: 1 } }),
  ],
  [
    'move pin 1/3 to 2/1 (both key fields)',
    (p) =>
      p.pin.update({ where: { accountId_noteId: { accountId: 1, noteId: 3 } }, data: { accountId: 2, noteId: 1 } }),
  ],
  [
    'move pin 1/3 onto an existing pin (unique violation)',
    async (p) => {
      await p.pin.create({ data: { accountId: 2, noteId: 3 } })
      return p.pin.update({ where: { accountId_noteId: { accountId: 1, noteId: 3 } }, data: { accountId: 2 } })
    },
  ],
  [
    'move profile 1 onto account 2 that has one (unique violation)',
    async (p) => {
      await p.profile.create({ data: { accountId: 2 } })
      return p.profile.update({ where: { id: 1 }, data: { accountId: 2 } })
    },
  ],
  [
    'move note 3 with select _count',
    (p) => p.note.update({ where: { id: 3 }, data: { ownerId: 1 }, select: { _count: true, ownerId: true } }),
  ],
  ['move profile 1 to account 2 (unique key)', (p) => p.profile.update({ where: { id: 1 }, data: { accountId: 2 } })],
  ['move profile by its key', (p) => p.profile.update({ where: { accountId: 1 }, data: { accountId: 3 } })],
  ['move note 3 (extra where matches)', (p) => p.note.update({ where: { id: 3, pinned: true }, data: { ownerId: 1 } })],
  ['move note 3 (extra where fails)', (p) => p.note.update({ where: { id: 3, pinned: false }, data: { ownerId: 1 } })],
  ['move note 3 (where on the old key)', (p) => p.note.update({ where: { id: 3, ownerId: 2 }, data: { ownerId: 1 } })],
  [
    'move note 3 (where on a wrong old key)',
    (p) => p.note.update({ where: { id: 3, ownerId: 1 }, data: { ownerId: 2 } }),
  ],
  [
    'move note 3 (where AND object)',
    (p) => p.note.update({ where: { id: 3, AND: { title: 'm' } }, data: { ownerId: 1 } }),
  ],
  [
    'move note 3 (where AND list on the key)',
    (p) => p.note.update({ where: { id: 3, AND: [{ ownerId: 2 }, { pinned: true }] }, data: { ownerId: 1 } }),
  ],
  [
    'move note 3 (where OR/NOT)',
    (p) => p.note.update({ where: { id: 3, OR: [{ ownerId: 2 }], NOT: { ownerId: 1 } }, data: { ownerId: 1 } }),
  ],
  [
    'move note 3 (where on a relation)',
    (p) => p.note.update({ where: { id: 3, owner: { handle: 'bob' } }, data: { ownerId: 1 } }),
  ],
  ['move missing note 99', (p) => p.note.update({ where: { id: 99 }, data: { ownerId: 1 } })],
  ['move note 3 to missing account', (p) => p.note.update({ where: { id: 3 }, data: { ownerId: 77 } })],
  [
    'move note 3 with select',
    (p) => p.note.update({ where: { id: 3 }, data: { ownerId: 1 }, select: { id: true, title: true } }),
  ],
  [
    'move note 3 with include',
    (p) => p.note.update({ where: { id: 3 }, data: { ownerId: 1 }, include: { owner: { select: { id: true } } } }),
  ],
  ['move note 3 with omit', (p) => p.note.update({ where: { id: 3 }, data: { ownerId: 1 }, omit: { ownerId: true } })],
  [
    'move note 3 and create a tag (nested data)',
    (p) => p.note.update({ where: { id: 3 }, data: { ownerId: 1, tags: { create: { id: 9n, name: 'n' } } } }),
  ],
  // Relation moves (not guarded).
  ['connect note 3 to 1', (p) => p.note.update({ where: { id: 3 }, data: { owner: { connect: { id: 1 } } } })],
  ['disconnect note 2', (p) => p.note.update({ where: { id: 2 }, data: { owner: { disconnect: true } } })],
  [
    'note 4 takes bob by handle',
    (p) => p.note.update({ where: { id: 4 }, data: { byHandle: { connect: { handle: 'bob' } } } }),
  ],
  [
    'note 4 creates its owner',
    (p) => p.note.update({ where: { id: 4 }, data: { owner: { create: { handle: 'dee' } } } }),
  ],
  [
    'note 4 connectOrCreate owner',
    (p) =>
      p.note.update({
        where: { id: 4 },
        data: { owner: { connectOrCreate: { where: { id: 2 }, create: { handle: 'eve' } } } },
      }),
  ],
  ['account 1 notes set [3]', (p) => p.account.update({ where: { id: 1 }, data: { notes: { set: [{ id: 3 }] } } })],
  [
    'account 2 notes connect 1',
    (p) => p.account.update({ where: { id: 2 }, data: { notes: { connect: [{ id: 1 }] } } }),
  ],
  [
    'account 1 notes disconnect 2',
    (p) => p.account.update({ where: { id: 1 }, data: { notes: { disconnect: [{ id: 2 }] } } }),
  ],
  [
    'mentor of 3 connected to 2',
    (p) => p.account.update({ where: { id: 3 }, data: { mentor: { connect: { id: 2 } } } }),
  ],
  [
    'mentees of 2 connect 3',
    (p) => p.account.update({ where: { id: 2 }, data: { mentees: { connect: [{ id: 3 }] } } }),
  ],
  ['tag 1 connects note 3', (p) => p.tag.update({ where: { id: 1n }, data: { notes: { connect: [{ id: 3 }] } } })],
  [
    'group 1 drops account 1',
    (p) => p.group.update({ where: { id: 1 }, data: { accounts: { disconnect: [{ id: 1 }] } } }),
  ],
  ['profile connected to 2', (p) => p.profile.update({ where: { id: 1 }, data: { account: { connect: { id: 2 } } } })],
  // Updates that keep membership, or change it through a field of a scheme.
  ['retitle note 1', (p) => p.note.update({ where: { id: 1 }, data: { title: 'b' } })],
  ['retitle note 1 to a (same value)', (p) => p.note.update({ where: { id: 1 }, data: { title: 'a' } })],
  ['unpin note 3', (p) => p.note.update({ where: { id: 3 }, data: { pinned: false } })],
  ['pin note 1', (p) => p.note.update({ where: { id: 1 }, data: { pinned: true } })],
  ['pin note 3 (same value)', (p) => p.note.update({ where: { id: 3 }, data: { pinned: true } })],
  ['rank note 2 down', (p) => p.note.update({ where: { id: 2 }, data: { rank: 0 } })],
  ['kind of note 1', (p) => p.note.update({ where: { id: 1 }, data: { kind: 'PRO' } })],
  [
    'weight of pin 1/3',
    (p) => p.pin.update({ where: { accountId_noteId: { accountId: 1, noteId: 3 } }, data: { weight: 2 } }),
  ],
  ['deactivate account 2', (p) => p.account.update({ where: { id: 2 }, data: { active: false } })],
  ['rename cyd (y leaves)', (p) => p.account.update({ where: { id: 3 }, data: { handle: 'cid' } })],
  ['rename ann (cascade)', (p) => p.account.update({ where: { id: 1 }, data: { handle: 'ann2' } })],
  ['renumber account 2 (cascade)', (p) => p.account.update({ where: { id: 2 }, data: { id: 20 } })],
  ['renumber note 3', (p) => p.note.update({ where: { id: 3 }, data: { id: 30 } })],
  ['touch account 3 (updatedAt only)', (p) => p.account.update({ where: { id: 3 }, data: {} })],
  ['create a note of 1', (p) => p.note.create({ data: { title: 'new', ownerId: 1 } })],
  [
    'create a note on A/1 pinned',
    (p) => p.note.create({ data: { title: 'n', shelfCode: 'A', shelfNo: 1, pinned: true } }),
  ],
  ['delete note 1', (p) => p.note.delete({ where: { id: 1 } })],
  ['delete account 3', (p) => p.account.delete({ where: { id: 3 } })],
  ['delete pin 1/3', (p) => p.pin.delete({ where: { accountId_noteId: { accountId: 1, noteId: 3 } } })],
  [
    'upsert note 3 moving it',
    (p) => p.note.upsert({ where: { id: 3 }, create: { title: 'x' }, update: { ownerId: 1 } }),
  ],
  [
    'upsert note 3 retitling it',
    (p) => p.note.upsert({ where: { id: 3 }, create: { title: 'x' }, update: { title: 'y' } }),
  ],
  [
    'upsert note 60 (create)',
    (p) => p.note.upsert({ where: { id: 60 }, create: { id: 60, title: 'x', ownerId: 2 }, update: {} }),
  ],
  ['updateMany moving notes of 1', (p) => p.note.updateMany({ where: { ownerId: 1 }, data: { ownerId: 2 } })],
  ['updateMany retitling notes of 1', (p) => p.note.updateMany({ where: { ownerId: 1 }, data: { title: 'q' } })],
  ['updateManyAndReturn moving', (p) => p.note.updateManyAndReturn({ where: { ownerId: 2 }, data: { ownerId: 1 } })],
  [
    'createMany',
    (p) =>
      p.note.createMany({
        data: [
          { title: 'q', ownerId: 1 },
          { title: 'r', ownerHandle: 'bob' },
        ],
      }),
  ],
  ['createManyAndReturn', (p) => p.note.createManyAndReturn({ data: [{ title: 'q', ownerId: 2, pinned: true }] })],
  ['deleteMany notes of 1', (p) => p.note.deleteMany({ where: { ownerId: 1 } })],
  [
    'batch transaction move',
    (p) => p.$transaction([p.note.update({ where: { id: 3 }, data: { ownerId: 1 } }), p.note.count()]),
  ],
  [
    'interactive transaction move',
    (p) => p.$transaction(async (tx) => tx.note.update({ where: { id: 3 }, data: { ownerId: 1 } })),
  ],
  ['delete account 1 (SetNull)', (p) => p.account.delete({ where: { id: 1 } })],
  [
    'shelf renumbered (compound cascade)',
    (p) => p.shelf.update({ where: { code_no: { code: 'A', no: 1 } }, data: { no: 2 } }),
  ],
  [
    'note 2 connects shelf A/1',
    (p) => p.note.update({ where: { id: 2 }, data: { shelf: { connect: { code_no: { code: 'A', no: 1 } } } } }),
  ],
  ['note 1 leaves its shelf', (p) => p.note.update({ where: { id: 1 }, data: { shelf: { disconnect: true } } })],
  ['nested note create', (p) => p.account.update({ where: { id: 1 }, data: { notes: { create: { title: 'n' } } } })],
  ['nested note delete', (p) => p.account.update({ where: { id: 1 }, data: { notes: { delete: { id: 2 } } } })],
  [
    'nested note pinned',
    (p) =>
      p.account.update({ where: { id: 1 }, data: { notes: { update: { where: { id: 2 }, data: { pinned: true } } } } }),
  ],
  [
    'nested notes updateMany by handle',
    (p) =>
      p.account.update({
        where: { id: 1 },
        data: { notes: { updateMany: { where: {}, data: { ownerHandle: 'bob' } } } },
      }),
  ],
  ['nested notes deleteMany', (p) => p.account.update({ where: { id: 1 }, data: { notes: { deleteMany: {} } } })],
  [
    'nested move of a mentee',
    (p) =>
      p.account.update({
        where: { id: 1 },
        data: { mentees: { update: { where: { id: 3 }, data: { buddyHandle: 'bob' } } } },
      }),
  ],
  ['profile deleted with its account (cascade)', (p) => p.account.delete({ where: { id: 1 } })],
  ['raw move', (p) => p.$executeRawUnsafe(`UPDATE "notes" SET "owner_id" = 1 WHERE "id" = 3`)],
]

/**
 * The write matrix each describe runs: a sixth of the writes, moves included, the sixth drawn at random each run
 * (slice-of-run.ts); all 96 with STRATA_FULL_ADVERSARY=1 (two minutes alone on a 2-core machine). The moves on SQLite
 * (below) always run whole.
 */
const matrixAttacks = sliceOfRun('precise-counts-moves', attacks, 6)

async function differences(world: PreciseWorld, list: Read[], client: Raw = world.prisma): Promise<string[]> {
  const out: string[] = []
  for (const [name, read] of list) {
    const got = await settle(() => read(client))
    const want = await settle(() => read(world.raw))
    if (got !== want) out.push(`${name}: strata ${got} prisma ${want}`)
  }
  return out
}

/** Differences once another instance's bump has had time to arrive (40 tries, 50 ms apart). */
async function converged(world: PreciseWorld, list: Read[], client: Raw): Promise<string[]> {
  let out = await differences(world, list, client)
  for (let i = 0; i < 40 && out.length > 0; i++) {
    await sleep(50)
    out = await differences(world, list, client)
  }
  return out
}

async function warm(client: Raw, list: Read[]) {
  for (let i = 0; i < 2; i++) for (const [, read] of list) await settle(() => read(client))
}

const open: PreciseWorld[] = []
afterEach(async () => {
  for (const w of open.splice(0)) await w.close()
})

async function fresh(provider: Provider): Promise<PreciseWorld> {
  const w = await preciseWorld(provider)
  open.push(w)
  return w
}

const providers: Provider[] = ['sqlite', 'postgres']

// On SQLite the same matrix runs with write-through notes and accounts (below), which covers its counts too.
describe.each(['postgres'] as const)('counts after writes on %s', (provider) => {
  it.each(matrixAttacks)('after %s every count equals the oracle', async (_, attack) => {
    const w = await fresh(provider)
    await warm(w.prisma, reads)
    await settle(() => attack(w.prisma))
    expect(await differences(w, reads)).toEqual([])
  })
})

describe('the count matrix is not vacuous', () => {
  it('every count is answered from the cache once warm', async () => {
    const w = await fresh('sqlite')
    await warm(w.prisma, reads)
    const hits = () => {
      const { localHits, redisHits, misses, bypasses } = w.prisma.$cache.stats()
      return { hits: localHits + redisHits, misses, bypasses }
    }
    const notHits: string[] = []
    for (const [name, read] of reads) {
      const before = hits()
      await settle(() => read(w.prisma))
      const after = hits()
      if (after.hits === before.hits || after.misses !== before.misses || after.bypasses !== before.bypasses)
        notHits.push(name)
    }
    expect(notHits).toEqual([])
  })
})

// On PostgreSQL every write form; on SQLite (the same guarded statement, RETURNING too) the moves.
describe.each(providers)('a guarded move shows the caller what Prisma shows on %s', (provider) => {
  it.each(
    provider === 'postgres' ? matrixAttacks : attacks.filter(([name]) => /move/.test(name)),
  )('%s: same result or error, same rows after', async (_, attack) => {
    const cached = await fresh(provider)
    const plain = await fresh(provider)
    const got = await settle(() => attack(cached.prisma))
    const want = await settle(() => attack(plain.raw as Cached))
    expect(got.replace(/"updatedAt":"[^"]*"/g, '')).toBe(want.replace(/"updatedAt":"[^"]*"/g, ''))
    const rows = (w: PreciseWorld) =>
      settle(() =>
        Promise.all([
          w.raw.note.findMany({ orderBy: { id: 'asc' } }),
          w.raw.account.findMany({ orderBy: { id: 'asc' }, omit: { updatedAt: true } }),
          w.raw.pin.findMany({ orderBy: [{ accountId: 'asc' }, { noteId: 'asc' }] }),
          w.raw.profile.findMany({ orderBy: { id: 'asc' } }),
        ]),
      )
    expect(await rows(cached)).toBe(await rows(plain))
  })
})

/** A query hook on note updates that rewrites their arguments (applied below or above the cache). */
const updateHook =
  (rewrite: (args: { where: object; data: object }) => object) =>
  (c: Raw): Raw =>
    c.$extends({
      query: { note: { update: ({ args, query }) => query(rewrite(args) as typeof args) } },
    }) as unknown as Raw

/** A tenant filter: notes titled m cannot be updated. */
const tenantFilter = updateHook((args) => ({ ...args, where: { ...args.where, title: { not: 'm' } } }))

/** A query extension below the cache that holds the first old-key read of a note move until released. */
function holdOldKeyRead() {
  const { arrived, held, gate: opened, release } = gate()
  let armed = true
  const below = (c: Raw) =>
    c.$extends({
      query: {
        note: {
          async findUnique({ args, query }) {
            const select = Object.keys((args as { select?: object }).select ?? {})
            const row = await query(args)
            if (armed && select.join() === 'ownerId') {
              armed = false
              arrived()
              await opened
            }
            return row
          },
        },
      },
    })
  return { below, held, release }
}

const movesAndCounts: Read[] = reads.filter(([name]) => /notes of [123]|without owner|_counts of account/.test(name))

describe.each(providers)('guarded moves: races, extensions, instances on %s', (provider) => {
  it('a move raced by an outside move between the old-key read and the update', async () => {
    const w = await fresh(provider)
    const hold = holdOldKeyRead()
    const cached = await w.instance({}, hold.below)
    await warm(cached, movesAndCounts)
    const moving = cached.note.update({ where: { id: 3 }, data: { ownerId: 1 } }).then((r) => r)
    await hold.held
    await w.raw.note.update({ where: { id: 3 }, data: { ownerId: 3 } })
    hold.release()
    expect((await moving).ownerId).toBe(1)
    expect(await differences(w, movesAndCounts, cached)).toEqual([])
  })

  it('a move raced by an outside delete surfaces P2025 as Prisma does', async () => {
    const w = await fresh(provider)
    const hold = holdOldKeyRead()
    const cached = await w.instance({}, hold.below)
    await warm(cached, movesAndCounts)
    const moving = settle(() => cached.note.update({ where: { id: 3 }, data: { ownerId: 1 } }))
    await hold.held
    await w.raw.note.delete({ where: { id: 3 } })
    hold.release()
    const want = await settle(() => w.raw.note.update({ where: { id: 3 }, data: { ownerId: 1 } }))
    expect(await moving).toBe(want)
    expect(await differences(w, movesAndCounts, cached)).toEqual([])
  })

  it('the not-found error of a move is Prisma’s: class, code, meta and message', async () => {
    const w = await fresh(provider)
    const catchIt = (p: Raw) =>
      p.note.update({ where: { id: 3, pinned: false }, data: { ownerId: 1 } }).then(
        () => undefined,
        (e: Error & { code?: string; meta?: unknown }) => ({
          name: e.constructor.name,
          code: e.code,
          meta: e.meta,
          message: e.message,
        }),
      )
    const got = await catchIt(w.prisma)
    const want = await catchIt(w.raw)
    expect(got).toEqual(want)
    expect(want?.code).toBe('P2025')
  })

  it('a move by an instance with invalidation "model" makes stale a precise instance’s counts', async () => {
    const w = await fresh(provider)
    const byModel = await w.instance({ invalidation: 'model' })
    await warm(w.prisma, movesAndCounts)
    await warm(byModel, movesAndCounts)
    await byModel.note.update({ where: { id: 3 }, data: { ownerId: 1 } })
    expect(await converged(w, movesAndCounts, w.prisma)).toEqual([])
    await w.prisma.note.update({ where: { id: 1 }, data: { ownerId: 2 } })
    expect(await converged(w, movesAndCounts, byModel)).toEqual([])
  })

  it('a count cached by an instance without Redis after moves and updates', async () => {
    const w = await fresh(provider)
    const local = await w.instance({ redis: undefined })
    await warm(local, reads)
    await local.note.update({ where: { id: 3 }, data: { ownerId: 1 } })
    await local.note.update({ where: { id: 1 }, data: { pinned: true, title: 'b' } })
    await local.account.update({ where: { id: 3 }, data: { mentorId: 2 } })
    expect(await differences(w, reads, local)).toEqual([])
  })

  it('a query extension below the cache that adds to the where of updates', async () => {
    const w = await fresh(provider)
    const cached = await w.instance({}, tenantFilter)
    const oracle = tenantFilter(w.raw)
    await warm(cached, movesAndCounts)
    const got = await settle(() => cached.note.update({ where: { id: 3 }, data: { ownerId: 1 } }))
    expect(got).toBe(await settle(() => oracle.note.update({ where: { id: 3 }, data: { ownerId: 1 } })))
    await settle(() => cached.note.update({ where: { id: 1 }, data: { ownerId: 2 } }))
    expect(await differences(w, movesAndCounts, cached)).toEqual([])
  })
})

// A query extension below the cache that changes an update's data (a field it sets on every update): the cache
// sees the data as the caller wrote it.
describe.each(providers)('a query extension below the cache that sets a field of a scheme on %s', (provider) => {
  const pinning = updateHook((args) => ({ ...args, data: { ...args.data, pinned: true } }))
  // A write hook added after cache() (`prisma.$extends(cache()).$extends(x)`) runs inside Strata's write: Strata
  // sees the data as the caller wrote it (a title) while the hook also sets `pinned`. It was a known gap (the update
  // was taken to keep its row in every predicate but the title's: counts of pinned and unpinned notes stayed stale);
  // since such hooks are noted when the client is extended, writes to their models bump every predicate.
  it('counts after a retitle through a hook added after cache()', async () => {
    const w = await fresh(provider)
    const cached = pinning(w.prisma) as unknown as Raw
    const list = reads.filter(([name]) => /pinned|_count with where/.test(name))
    await warm(cached, list)
    await cached.note.update({ where: { id: 1 }, data: { title: 'b' } })
    expect(await differences(w, list, cached)).toEqual([])
  })

  it('counts after a move through a hook added after cache() that moves it elsewhere', async () => {
    const w = await fresh(provider)
    const elsewhere = updateHook((args) => {
      const data = args.data as { ownerId?: number }
      return { ...args, data: data.ownerId === 1 ? { ...data, ownerId: 3 } : data }
    })
    const cached = elsewhere(w.prisma) as unknown as Raw
    await warm(cached, movesAndCounts)
    await cached.note.update({ where: { id: 3 }, data: { ownerId: 1 } })
    expect(await differences(w, movesAndCounts, cached)).toEqual([])
  })

  it('counts of pinned and unpinned notes after a retitle', async () => {
    const w = await fresh(provider)
    const cached = await w.instance({}, pinning)
    const list = reads.filter(([name]) => /pinned|_count with where/.test(name))
    await warm(cached, list)
    await cached.note.update({ where: { id: 1 }, data: { title: 'b' } })
    expect(await differences(w, list, cached)).toEqual([])
  })
})

// Update triggers fire as often for a cached move as for Prisma's: PostgreSQL counts statements and rows, SQLite rows.
async function withTriggers(w: PreciseWorld, provider: Provider) {
  if (provider === 'postgres') {
    await w.raw.$executeRawUnsafe('CREATE TABLE fired (n serial PRIMARY KEY, level text)')
    await w.raw.$executeRawUnsafe(
      `CREATE FUNCTION log_fired() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO fired(level) VALUES (TG_LEVEL); RETURN NULL; END $$`,
    )
    await w.raw.$executeRawUnsafe(
      'CREATE TRIGGER notes_statement AFTER UPDATE ON notes FOR EACH STATEMENT EXECUTE FUNCTION log_fired()',
    )
    await w.raw.$executeRawUnsafe(
      'CREATE TRIGGER notes_row AFTER UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION log_fired()',
    )
  } else {
    await w.raw.$executeRawUnsafe('CREATE TABLE fired (n INTEGER PRIMARY KEY, level TEXT)')
    await w.raw.$executeRawUnsafe(
      `CREATE TRIGGER notes_row AFTER UPDATE ON notes BEGIN INSERT INTO fired(level) VALUES ('ROW'); END`,
    )
  }
  return async () =>
    show(await w.raw.$queryRawUnsafe('SELECT level, COUNT(*) AS n FROM fired GROUP BY level ORDER BY level'))
}

describe.each(providers)('update triggers of a move on %s', (provider) => {
  const strip = (t: string) => t.replace(/"updatedAt":"[^"]*"/g, '')

  it('a move fires them as Prisma does', async () => {
    const cached = await fresh(provider)
    const plain = await fresh(provider)
    const firedCached = await withTriggers(cached, provider)
    const firedPlain = await withTriggers(plain, provider)
    for (const id of [3, 1, 99]) {
      const got = await settle(() => cached.prisma.note.update({ where: { id }, data: { ownerId: 2 } }))
      expect(strip(got)).toBe(strip(await settle(() => plain.raw.note.update({ where: { id }, data: { ownerId: 2 } }))))
    }
    expect(await firedCached()).toBe(await firedPlain())
  })

  // A move whose key another write moves between the old-key read and the update: Prisma's update, after that
  // write, fires the statement triggers once; the cached move sends the guarded UPDATE (no row) and then the update
  // as asked.
  /** Runs `scenario` on a cached world and a plain one, both with update triggers; the triggers each fired. */
  const compared = async (scenario: (cached: PreciseWorld, plain: PreciseWorld) => Promise<void>) => {
    const cached = await fresh(provider)
    const plain = await fresh(provider)
    const firedCached = await withTriggers(cached, provider)
    const firedPlain = await withTriggers(plain, provider)
    await scenario(cached, plain)
    return [await firedCached(), await firedPlain()]
  }

  const filtered = (cached: PreciseWorld, plain: PreciseWorld) =>
    (async () => {
      for (const id of [3, 1]) {
        const move = (p: Raw) => tenantFilter(p).note.update({ where: { id }, data: { ownerId: 2 } })
        expect(strip(await settle(() => move(cached.prisma)))).toBe(strip(await settle(() => move(plain.raw))))
      }
    })()

  const raced = async (cached: PreciseWorld, plain: PreciseWorld) => {
    const hold = holdOldKeyRead()
    const client = await cached.instance({}, hold.below)
    const moving = settle(() => client.note.update({ where: { id: 3 }, data: { ownerId: 1 } }))
    await hold.held
    await cached.raw.note.update({ where: { id: 3 }, data: { ownerId: 3 } })
    hold.release()
    const got = await moving
    await plain.raw.note.update({ where: { id: 3 }, data: { ownerId: 3 } })
    expect(strip(got)).toBe(
      strip(await settle(() => plain.raw.note.update({ where: { id: 3 }, data: { ownerId: 1 } }))),
    )
  }

  // FINDING (PostgreSQL): a move whose guarded UPDATE finds no row runs a second UPDATE, the update as asked, where
  // Prisma runs one: FOR EACH STATEMENT triggers fire twice (an audit log gets an extra entry). Row triggers fire
  // once. Still so under a race, when another write moves the key between the old-key read and the update. It was
  // deterministic when a hook added after cache() narrows the update's where (a tenant filter: Strata read the old
  // key below that hook, found the row, and the narrowed guarded update did not): a model with such a hook is no
  // longer written precisely, so there is no guarded update.
  const scenarios: Array<[string, typeof raced, boolean]> = [
    ['a move a hook added after cache() rejects', filtered, false],
    ['a move raced by an outside move', raced, true],
  ]
  for (const [name, scenario, known] of scenarios) {
    if (provider === 'postgres' && known) {
      it.fails(`${name} fires statement triggers as Prisma does`, async () => {
        const [got, want] = await compared(scenario)
        expect(got).toBe(want)
      })
    } else {
      it(`${name} fires ${provider === 'postgres' ? 'statement' : 'row'} triggers as Prisma does`, async () => {
        const [got, want] = await compared(scenario)
        expect(got).toBe(want)
      })
    }
  }
})

// The main schema on every provider (MySQL keeps the unguarded move): a key inside a compound unique key
// (`@@unique([authorId, title])`), a move by that key, a move into a taken key, extended where, nested moves.
describe.each(
  matrix.filter((c) => c.tiers === 'two-tier'),
)('moves with a key in a compound unique on $provider', (c) => {
  let s: Setup
  let seq = 0
  beforeAll(async () => {
    s = await setupCase(c, {})
  })
  afterAll(() => s?.close())

  const counts = (client: Setup['raw'], ids: number[]) =>
    Promise.all(
      ids.flatMap((id) => [
        client.post.count({ where: { authorId: id } }),
        client.post.count({ where: { authorId: id, title: 't0' } }),
        client.post.count({ where: { authorId: id, published: true } }),
        client.user.findUnique({ where: { id }, select: { _count: { select: { posts: true } } } }),
        client.post.findMany({ where: { authorId: id }, orderBy: { id: 'asc' }, select: { id: true, title: true } }),
      ]),
    )

  type Move = (p: Setup['raw'], a: number, b: number, post: number) => PromiseLike<unknown>
  it.each([
    [
      'by the compound key',
      (p, a, b) => p.post.update({ where: { authorId_title: { authorId: a, title: 't0' } }, data: { authorId: b } }),
    ],
    [
      'into a taken compound key',
      (p, a, b) => p.post.update({ where: { authorId_title: { authorId: a, title: 't1' } }, data: { authorId: b } }),
    ],
    ['with its title', (p, _a, b, post) => p.post.update({ where: { id: post }, data: { authorId: b, title: 't0' } })],
    [
      'extended where on published',
      (p, _a, b, post) => p.post.update({ where: { id: post, published: false }, data: { authorId: b } }),
    ],
    [
      'extended where not matching',
      (p, _a, b, post) => p.post.update({ where: { id: post, published: true }, data: { authorId: b } }),
    ],
    ['to no author', (p, _a, _b, post) => p.post.update({ where: { id: post }, data: { authorId: null } })],
    ['to a missing author', (p, _a, _b, post) => p.post.update({ where: { id: post }, data: { authorId: 999_999 } })],
    [
      'from the author side',
      (p, _a, b, post) => p.user.update({ where: { id: b }, data: { posts: { connect: [{ id: post }] } } }),
    ],
    ['updateMany', (p, a, b) => p.post.updateMany({ where: { authorId: a, published: true }, data: { authorId: b } })],
    ['deleteMany', (p, a) => p.post.deleteMany({ where: { authorId: a, published: true } })],
  ] as Array<[string, Move]>)('a move %s: same answer, counts equal the oracle', async (_, move) => {
    const n = ++seq
    const a = await s.raw.user.create({ data: { email: `advp-a${n}@x`, name: 'a' } })
    const b = await s.raw.user.create({ data: { email: `advp-b${n}@x`, name: 'b' } })
    const posts: number[] = []
    for (let i = 0; i < 3; i++)
      posts.push((await s.raw.post.create({ data: { title: `t${i}`, authorId: a.id, published: i > 0 } })).id)
    await s.raw.post.create({ data: { title: 't1', authorId: b.id } })
    const ids = [a.id, b.id]
    await counts(s.prisma as unknown as Setup['raw'], ids)
    await counts(s.prisma as unknown as Setup['raw'], ids)
    const got = await settle(() => move(s.prisma as unknown as Setup['raw'], a.id, b.id, posts[0] as number))
    expect(got).toMatch(/^(throws|\{|\[|[0-9])/)
    expect(await counts(s.prisma as unknown as Setup['raw'], ids)).toEqual(await counts(s.raw, ids))
    if (!got.startsWith('throws')) return
    // The same write again, uncached, fails the same way.
    expect(got.replace(/prisma\.\w+\.\w+\(\)/, '')).toBe(
      (await settle(() => move(s.raw, a.id, b.id, posts[0] as number))).replace(/prisma\.\w+\.\w+\(\)/, ''),
    )
  })
})

// Notes and accounts written through (point reads cached per row): the same counts after the same writes.
describe('counts after writes with write-through notes and accounts on sqlite', () => {
  it.each(matrixAttacks)('after %s every count equals the oracle', async (_, attack) => {
    const w = await preciseWorld('sqlite', {
      models: { Note: { strategy: 'write-through' }, Account: { strategy: 'write-through' } },
    })
    open.push(w)
    await warm(w.prisma, reads)
    await settle(() => attack(w.prisma))
    expect(await differences(w, reads)).toEqual([])
  })
})

// Another instance on the prefix holds the counts in its own process: the membership bumps reach it by the bus.
describe.each(providers)('counts held by another instance on %s', (provider) => {
  it.each(
    matrixAttacks.filter(([name]) => /^move|create|delete|unpin|pin note 1|upsert/.test(name)),
  )('after %s its counts converge on the oracle', async (_, attack) => {
    const w = await fresh(provider)
    const other = await w.instance()
    await warm(other, reads)
    await settle(() => attack(w.prisma))
    expect(await converged(w, reads, other)).toEqual([])
  })
})

// Moves of one row racing each other through the cache (both read the same old key; one guard fails and that
// update runs as asked), and a move racing updates that keep the row where it is.
describe.each(providers)('concurrent moves of one row on %s', (provider) => {
  it.each([
    [
      'two moves of note 3',
      (p: Cached) =>
        Promise.all([
          p.note.update({ where: { id: 3 }, data: { ownerId: 1 } }),
          p.note.update({ where: { id: 3 }, data: { ownerId: 3 } }),
        ]),
    ],
    [
      'a move and a retitle of note 3',
      (p: Cached) =>
        Promise.all([
          p.note.update({ where: { id: 3 }, data: { title: 'r' } }),
          p.note.update({ where: { id: 3 }, data: { ownerId: 1 } }),
          p.note.update({ where: { id: 3 }, data: { rank: 9 } }),
        ]),
    ],
    [
      'a move and a delete of note 3',
      (p: Cached) =>
        Promise.allSettled([
          p.note.update({ where: { id: 3 }, data: { ownerId: 1 } }),
          p.note.delete({ where: { id: 3 } }),
        ]),
    ],
    [
      'moves of note 3 from two instances',
      async (p: Cached, w: PreciseWorld) => {
        const other = await w.instance()
        return Promise.all([
          p.note.update({ where: { id: 3 }, data: { ownerId: 1 } }),
          other.note.update({ where: { id: 3 }, data: { ownerId: 3 } }),
          other.account.update({ where: { id: 3 }, data: { mentorId: 2 } }),
          p.account.update({ where: { id: 3 }, data: { mentorId: null } }),
        ])
      },
    ],
  ] as Array<[string, (p: Cached, w: PreciseWorld) => Promise<unknown>]>)('%s', async (_, race) => {
    const w = await fresh(provider)
    for (let round = 0; round < 5; round++) {
      await warm(w.prisma, reads)
      await race(w.prisma, w).catch(() => {})
      expect(await converged(w, reads, w.prisma)).toEqual([])
      await w.raw.note.upsert({ where: { id: 3 }, create: { id: 3, title: 'm', ownerId: 2 }, update: { ownerId: 2 } })
      await w.raw.account.update({ where: { id: 3 }, data: { mentorId: 1 } })
      await w.prisma.$cache.invalidate({ models: ['Note', 'Account'] })
    }
  })
})
