import { it } from 'vitest'
import { Prisma } from '../generated/sqlite/client/client.ts'
import { setupCase } from './support/matrix.ts'

const show = async (label: string, f: () => Promise<unknown>) => {
  try {
    const v = await f()
    console.log(
      label,
      'OK',
      JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)),
    )
  } catch (e) {
    console.log(
      label,
      'ERR',
      (e as Error).constructor.name,
      (e as { code?: string }).code,
      String((e as Error).message)
        .split('\n')
        .slice(-2)
        .join(' | '),
    )
  }
}
it('scratch', async () => {
  for (const provider of ['sqlite', 'postgres'] as const) {
    const s = await setupCase({ provider, tiers: 'local' })
    const { raw, prisma } = s
    const ph = (i: number) => (provider === 'sqlite' ? '?' : `$${i}`)
    await raw.user.create({
      data: {
        id: 1,
        email: 'a',
        prefs: { a: 1 },
        posts: { create: { id: 1, title: 'x', tags: { create: { id: 1, name: 't1' } } } },
      },
    })
    await raw.user.create({ data: { id: 2, email: 'b', invitedById: 1, profile: { create: { bio: 'b' } } } })
    await show('json eq', () => raw.user.findMany({ where: { prefs: { equals: { a: 1 } } }, select: { id: true } }))
    await show('json dbnull', () =>
      raw.user.findMany({ where: { prefs: { equals: Prisma.DbNull } }, select: { id: true } }),
    )
    await show('bytes eq', () =>
      raw.user.findMany({ where: { avatar: { equals: new Uint8Array([1]) } }, select: { id: true } }),
    )
    await show('raw karma', () =>
      raw.$executeRawUnsafe(`UPDATE "User" SET "karma" = "karma" + ${ph(1)} WHERE "id" <= ${ph(2)}`, 7, 2),
    )
    await show('raw tagged', () => raw.$executeRaw`UPDATE "User" SET "karma" = "karma" + ${7} WHERE "id" <= ${2}`)
    await show('raw returning', () =>
      raw.$queryRawUnsafe(`UPDATE "Post" SET "views" = "views" + 1 WHERE "id" = ${ph(1)} RETURNING "id"`, 1),
    )
    await show('raw shift', () => raw.$executeRawUnsafe(`UPDATE "User" SET "id" = "id" + 100 WHERE "id" = ${ph(1)}`, 1))
    await show('after shift', () => raw.post.findMany({ select: { id: true, authorId: true } }))
    await show('after shift2', () => raw.user.findMany({ select: { id: true, invitedById: true } }))
    await show('raw del', () => raw.$executeRawUnsafe(`DELETE FROM "User" WHERE "id" = ${ph(1)}`, 101))
    await show('after del', () => raw.post.findMany({ select: { id: true, authorId: true } }))
    await show('after del2', () => raw.user.findMany({ select: { id: true, invitedById: true } }))
    await show('batch err', () =>
      prisma.$transaction([
        prisma.user.findMany({ select: { id: true } }),
        prisma.user.findUniqueOrThrow({ where: { id: 77 } }),
      ]),
    )
    await show('batch err2', () =>
      prisma.$transaction([prisma.user.create({ data: { id: 2, email: 'zz' } }), prisma.user.findMany()]),
    )
    await show('skipdup', () => raw.user.createMany({ data: [{ id: 2, email: 'b' }], skipDuplicates: true }))
    await show('upsert nested m', () =>
      raw.user.update({
        where: { id: 2 },
        data: {
          memberships: {
            upsert: [
              {
                where: { userId_teamId: { userId: 2, teamId: 1 } },
                create: { role: 'r', team: { create: { id: 1, name: 'red' } } },
                update: { role: 'q' },
              },
            ],
          },
        },
      }),
    )
    await show('itx pg abort', () =>
      raw.$transaction(async (tx) => {
        await tx.user.create({ data: { id: 2, email: 'b' } }).catch((e) => console.log('first', e.code))
        return tx.user.findMany({ select: { id: true } })
      }),
    )
    await show('groupBy null', () =>
      raw.post.groupBy({
        by: ['authorId'],
        _sum: { views: true },
        _avg: { views: true },
        orderBy: { authorId: 'asc' },
      }),
    )
    await show('agg', () =>
      raw.user.aggregate({ _sum: { balance: true, karma: true }, _avg: { balance: true, karma: true } }),
    )
    await s.close()
  }
}, 60000)
