/**
 * Types of the fluent API (`findUnique(...).posts()`) on Strata's read methods. Prisma builds these from its
 * TypeMap, which a model extension cannot reach once it overrides `findUnique`; the model's payload, which every
 * model delegate carries under a symbol, holds what is needed: the relations and their result types.
 */
import type { Prisma } from '@prisma/client/extension'

type ModelTypes<T> = T extends { [K: symbol]: { types: infer X } } ? X : never
type PayloadOf<T> = ModelTypes<T> extends { payload: infer P } ? P : never
type Objects<Pay> = Pay extends { objects: infer O } ? O : Record<never, never>
type WithPayload<Pay> = { [K: symbol]: { types: { payload: Pay } } }

/** What `.field(args)` returns: the relation field of a row selected with `{ select: { field: args } }`. */
type StepResult<Pay, K extends string, A> = Prisma.Result<
  WithPayload<Pay>,
  { select: { [Q in K]: [A] extends [undefined] ? true : A } },
  'findUniqueOrThrow'
> extends infer R
  ? R extends { [Q in K]: infer V }
    ? V
    : never
  : never

type ToOne<X> = X extends readonly unknown[] ? never : Exclude<X, null>
type NullIfOptional<X> = null extends X ? null : never

/** One method per relation of the model whose payload is `Pay`; to-one relations chain further. */
export type FluentApi<Pay, Null> = [Pay] extends [never]
  ? unknown
  : {
      [K in keyof Objects<Pay> & string]: <A = undefined>(
        args?: A,
      ) => Prisma.PrismaPromise<StepResult<Pay, K, A> | Null> &
        FluentApi<ToOne<Objects<Pay>[K]>, Null | NullIfOptional<Objects<Pay>[K]>>
    }

/** The result of `findUnique`/`findFirst` (and their `OrThrow` forms): a PrismaPromise with the fluent API. */
export type FluentRead<
  T,
  A,
  F extends 'findUnique' | 'findUniqueOrThrow' | 'findFirst' | 'findFirstOrThrow',
> = Prisma.PrismaPromise<Prisma.Result<T, A, F>> &
  FluentApi<PayloadOf<T>, F extends 'findUnique' | 'findFirst' ? null : never>
