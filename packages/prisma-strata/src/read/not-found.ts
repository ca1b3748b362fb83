/**
 * The error `*OrThrow` methods throw when no row matches, for answers served from a cached "no such row":
 * the same class, code and meta as Prisma's own (P2025), so callers' error handling cannot tell the difference.
 */
import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client'
import { delegateName } from '../schema/delegate-name'

let clientVersion = 'unknown'

export function setClientVersion(version: string | undefined): void {
  if (version) clientVersion = version
}

export function isNotFoundError(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'P2025'
}

export function notFoundError(model: string, operation: string): PrismaClientKnownRequestError {
  const jsModel = delegateName(model)
  const message = `\nInvalid \`prisma.${jsModel}.${operation}()\` invocation:\n\n\nAn operation failed because it depends on one or more records that were required but not found. No record was found for a query.`
  return new PrismaClientKnownRequestError(message, {
    code: 'P2025',
    clientVersion,
    meta: { modelName: model, operation: 'a query' },
  })
}
