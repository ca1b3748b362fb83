/**
 * prisma-strata: a two-tier cache (in-process LRU in front of Redis) for Prisma 7.
 *
 *   const prisma = new PrismaClient({ adapter }).$extends(cache({ redis }))
 */

export type { ChangesStatus } from './changes/changes-status'
export {
  AfterWriteError,
  BusError,
  ChangesError,
  CodecError,
  ContextInvalidError,
  ContextMissingError,
  EntryTooLargeError,
  errorCodes,
  HookError,
  RedisUnavailableError,
  RefreshFailedError,
  SqlParserError,
  StrataError,
  StrataOptionsError,
} from './errors'
export {
  type CacheArgument,
  type CacheHandle,
  cache,
  type ReadMethods,
  type ReadOperation,
  type ReadResult,
} from './extension'
export type { FluentApi, FluentRead } from './fluent-types'
export { combineHooks, type StrataHooks } from './observe/hooks'
export type { ModelCounters, ModelStats, OperationStats, StatsSnapshot } from './observe/stats'
export type {
  CacheOptions,
  ChangesOptions,
  HitEvent,
  InvalidateEvent,
  LeaseOptions,
  LocalTierOptions,
  MissEvent,
  ModelPolicy,
  QueryCacheArg,
  QueryCacheOptions,
} from './options'
export type { WrapOptions } from './read/wrap'
export type { ForeignKey, ReferentialAction, StrataSchema } from './schema/model-graph'
/** The `/// @cache(...)` grammar, shared with `prisma-strata-generator`. */
export { PLAIN_NATIVE, readCacheAnnotation } from './schema/schema-text'
