// What the generator knows of prisma/models.prisma: relations, and roughly which models a read depends on and a
// write can change. It only steers the choice of reads (towards reads a write should invalidate through a
// relation, the ones a missing dependency would leave stale); it never decides whether an answer is right. So it
// may over-approximate freely.
import { statements } from './raw-sql.ts'
import type { ModelKey, ReadSpec, Step, TxItem } from './steps.ts'

export const relations: Record<ModelKey, Record<string, ModelKey>> = {
  user: {
    invitedBy: 'user',
    invitees: 'user',
    profile: 'profile',
    posts: 'post',
    comments: 'comment',
    memberships: 'membership',
  },
  profile: { user: 'user' },
  post: { author: 'user', comments: 'comment', tags: 'tag' },
  comment: { post: 'post', author: 'user' },
  tag: { posts: 'post' },
  team: { members: 'membership' },
  membership: { user: 'user', team: 'team' },
  auditLog: {},
  box: { crates: 'crate' },
  crate: { box: 'box', items: 'item' },
  item: { crate: 'crate' },
  person: { passport: 'passport' },
  passport: { person: 'person', stamps: 'stamp' },
  stamp: { passport: 'passport' },
  postStats: {},
}

/**
 * Models whose rows change when rows of a model are deleted or get a new id: Cascade, SetNull, ON UPDATE CASCADE
 * and implicit many-to-many rows, transitively; and the view computed from Post rows.
 */
const referential: Record<ModelKey, ModelKey[]> = {
  user: ['user', 'profile', 'post', 'comment', 'membership', 'postStats'],
  profile: [],
  post: ['comment', 'tag', 'postStats'],
  comment: [],
  tag: ['post'],
  team: ['membership'],
  membership: [],
  auditLog: [],
  box: ['crate', 'item'],
  crate: ['item'],
  item: [],
  person: ['passport', 'stamp'],
  passport: ['stamp'],
  stamp: [],
  postStats: [],
}

/** Keys that structure arguments without naming a relation: their values stay on the same model. */
function walk(model: ModelKey, value: unknown, visit: (model: ModelKey, key: string, inner: unknown) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(model, item, visit)
    return
  }
  if (value === null || typeof value !== 'object') return
  for (const [key, inner] of Object.entries(value)) {
    if (key.startsWith('$')) continue // a tagged value
    visit(model, key, inner)
    const target = relations[model][key]
    walk(target ?? model, inner, visit)
  }
}

/** The models a read depends on (its own, every relation it names, every list relation `_count: true` counts). */
export function readModels(read: ReadSpec): Set<ModelKey> {
  const models = new Set<ModelKey>([read.model])
  const visit = (model: ModelKey, key: string, inner: unknown) => {
    const target = relations[model][key]
    if (target) models.add(target)
    if (key === '_count' && inner === true) for (const t of Object.values(relations[model])) models.add(t)
  }
  walk(read.model, read.args, visit)
  let model = read.model
  for (const [field, args] of read.fluent ?? []) {
    model = relations[model][field] ?? model
    models.add(model)
    walk(model, args, visit)
  }
  return models
}

/**
 * The models a writing step can change (`all`), and the models it writes directly (`roots`: `prisma.post.update`
 * writes Post, a raw `DELETE FROM "User"` writes User). Any write bumps its root, so reads of a root model say
 * little; a read of another model in `all` is stale only if Strata followed the relation or referential action.
 */
export function stepModels(step: Step): { roots: Set<ModelKey>; all: Set<ModelKey> } {
  const roots = new Set<ModelKey>()
  const all = new Set<ModelKey>()
  const reach = (model: ModelKey) => {
    all.add(model)
    for (const m of referential[model]) all.add(m)
  }
  const write = (model: ModelKey, op: string, args: unknown) => {
    roots.add(model)
    all.add(model)
    if (model === 'post') all.add('postStats') // any write to Post can change the view
    if (op.startsWith('delete')) reach(model)
    walk(model, args, (m, key, inner) => {
      const target = relations[m][key]
      if (target) all.add(target)
      if (target === 'post') all.add('postStats')
      if ((key === 'delete' || key === 'deleteMany') && inner) reach(m)
      if (key === 'id' && typeof inner === 'number') reach(m) // a new primary key, or a row selected by id
      // Linking rows moves the key of the side that holds it, and what references that key follows.
      if (['connect', 'connectOrCreate', 'create', 'set', 'disconnect'].includes(key)) {
        reach(m)
        for (const target of Object.values(relations[m])) reach(target)
      }
    })
  }
  const raw = (statement: string) => {
    const sql = (statements as Record<string, { sql(p: (n: number) => string): string }>)[statement]?.sql(() => '?')
    // Over-approximates freely: every quoted table the statement names (TRUNCATE lists, CTE targets).
    for (const match of sql?.matchAll(/"(\w+)"/g) ?? []) {
      const table = match[1] as string
      const key = (table.charAt(0).toLowerCase() + table.slice(1)) as ModelKey
      const models: ModelKey[] = table === '_PostToTag' ? ['post', 'tag'] : key in relations ? [key] : []
      for (const model of models) {
        roots.add(model)
        reach(model)
      }
    }
  }
  const item = (it: TxItem) => {
    if ('write' in it) write(it.write.model, it.write.op, it.write.args)
    else if ('raw' in it) raw(it.raw.statement)
    else if ('nested' in it) it.nested.forEach(item)
  }
  switch (step.kind) {
    case 'write':
      write(step.write.model, step.write.op, step.write.args)
      break
    case 'raw':
      raw(step.raw.statement)
      break
    case 'itx':
      step.body.forEach(item)
      break
    case 'batch':
      step.items.forEach(item)
      break
    case 'instance':
    case 'omit':
      if (step.write) write(step.write.model, step.write.op, step.write.args)
      break
    case 'lazy':
      write(step.write.model, step.write.op, step.write.args)
      break
    default:
      break
  }
  return { roots, all }
}
