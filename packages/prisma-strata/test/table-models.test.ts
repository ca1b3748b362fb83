// Which models a change to a schema-qualified table reaches (the change stream names tables by schema): a table of a
// model's name in another schema reaches nothing, `@@schema` models are found in their own schema, and the default
// schema is what the follower's connection resolves unqualified names to.
import { describe, expect, it } from 'vitest'
import { defaultSchema, type SlotStatus } from '../src/changes/postgres'
import { buildModelGraph, type RuntimeDataModel } from '../src/schema/model-graph'
import { tableKey, tablesBySchema } from '../src/schema/table-models'
import { preciseGraph } from './fixtures'

const reach = (tables: ReturnType<typeof tablesBySchema>, schema: string, table: string) =>
  [...(tables.reach.get(tableKey(schema, table)) ?? [])].sort()

describe('tables by schema', () => {
  it('a model without @@schema is in the default schema only', () => {
    const tables = tablesBySchema(preciseGraph, 'public')
    expect(reach(tables, 'public', 'User')).toContain('User')
    expect(reach(tables, 'other', 'User')).toEqual([])
    expect(reach(tables, 'other', '_PostToTag')).toEqual([])
    expect(reach(tables, 'public', '_PostToTag')).toEqual(['Post', 'Tag'])
    const elsewhere = tablesBySchema(preciseGraph, 'app')
    expect(reach(elsewhere, 'app', 'User')).toContain('User')
    expect(reach(elsewhere, 'public', 'User')).toEqual([])
  })

  it('@@schema models are matched in their schema, @@map names included; a join table in either model schema', () => {
    const runtime: RuntimeDataModel = {
      models: {
        Invoice: {
          dbName: 'invoices',
          schema: 'billing',
          fields: [
            { name: 'id', kind: 'scalar', type: 'Int' },
            { name: 'items', kind: 'object', type: 'Item', relationName: 'InvoiceToItem' },
          ],
        },
        Item: {
          dbName: null,
          schema: null,
          fields: [
            { name: 'id', kind: 'scalar', type: 'Int' },
            { name: 'invoices', kind: 'object', type: 'Invoice', relationName: 'InvoiceToItem' },
          ],
        },
      },
    }
    const graph = buildModelGraph(runtime, [])
    const tables = tablesBySchema(graph, 'public')
    // A row of either table reaches the other model too: deleting it deletes its join rows.
    expect(reach(tables, 'billing', 'invoices')).toEqual(['Invoice', 'Item'])
    expect(reach(tables, 'public', 'invoices')).toEqual([])
    expect(reach(tables, 'billing', 'Invoice')).toEqual([])
    expect(reach(tables, 'public', 'Item')).toEqual(['Invoice', 'Item'])
    expect(reach(tables, 'billing', 'Item')).toEqual([])
    expect(reach(tables, 'billing', '_InvoiceToItem')).toEqual(['Invoice', 'Item'])
    expect(reach(tables, 'public', '_InvoiceToItem')).toEqual(['Invoice', 'Item'])
    expect(tables.own.get(tableKey('billing', 'invoices'))?.map((m) => m.name)).toEqual(['Invoice'])
  })

  it('the default schema: the URL schema= first, else the connection current schema, else public', () => {
    const status = (schema: string | undefined) => ({ schema }) as SlotStatus
    expect(defaultSchema('postgresql://u@h/db?schema=app', status('public'))).toBe('app')
    expect(defaultSchema('postgresql://u@h/db', status('tenant'))).toBe('tenant')
    expect(defaultSchema('postgresql://u@h/db', status(undefined))).toBe('public')
  })
})
