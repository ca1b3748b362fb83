/** Prisma arguments (and rows, and selections): a plain object of named values. */
export type Args = Record<string, unknown>
