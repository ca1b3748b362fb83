// Declaration emit of an exported extended client (TS2742 "inferred type cannot be named" is what other Prisma
// extensions trip on). Checked by `pnpm typecheck` through test/types/tsconfig.declaration.json.
import { cache } from 'prisma-strata'
import { PrismaClient } from '../../generated/sqlite/client/client.ts'

export const prisma = new PrismaClient({} as never).$extends(cache())
export type Prisma = typeof prisma
export const transaction = () => prisma.$transaction(async (tx) => tx.user.findMany({ cache: false }))
