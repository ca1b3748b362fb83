// Drives the HTTP API over HTTP (Fastify's inject, and one real listen) on PostgreSQL, with the in-process tier
// alone and with Redis: conditional GETs from Strata's versions, writes that change them, cache hits counted below
// Prisma, and the Prometheus text of /metrics.
import type { PrismaPg } from '@prisma/adapter-pg'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresDatabase, type TestDatabase } from '../../../prisma/database.ts'
import { type CountingAdapter, countingAdapter } from '../../../test/support/counting-adapter.ts'
import { postgresUrl, redisUrl } from '../../../test/support/services.ts'
import { buildApp } from '../src/app.ts'
import { cacheControl } from '../src/conditional.ts'
import { type AppPrisma, closePrisma, createPrisma } from '../src/prisma.ts'
import { type Seeded, seed } from '../src/seed.ts'
import { ConfigurationError, start } from '../src/server.ts'

let db: TestDatabase
let seq = 0
const prefixBase = `http-api-test-${process.pid}-${Date.now().toString(36)}`

beforeAll(async () => {
  db = await createPostgresDatabase(await postgresUrl())
})
afterAll(async () => {
  await db?.drop()
})

/** One instance of the API: its cached client, its SQL counter, its metrics registry. */
interface Instance {
  app: FastifyInstance
  prisma: AppPrisma
  sql: CountingAdapter<PrismaPg>
  registry: Registry
  close(): Promise<void>
}

async function instance(options: { redis?: string; prefix?: string } = {}): Promise<Instance> {
  const sql = countingAdapter(db.adapter() as PrismaPg)
  const registry = new Registry()
  const prisma = createPrisma({
    adapter: sql.adapter,
    redisUrl: options.redis,
    prefix: options.prefix ?? `${prefixBase}-${seq++}`,
    registry,
  })
  if (options.redis) expect(await prisma.$cache.whenReady(5000)).toBe(true)
  const app = buildApp({ prisma, registry, redis: Boolean(options.redis) })
  await app.ready()
  return {
    app,
    prisma,
    sql,
    registry,
    async close() {
      await app.close()
      await closePrisma(prisma)
    },
  }
}

/** What a request cost: SQL statements sent and cache lookups (hits and misses) counted by Strata. */
async function cost<T>(api: Instance, run: () => Promise<T>): Promise<{ result: T; sql: number; lookups: number }> {
  const lookups = () => {
    const s = api.prisma.$cache.stats()
    return s.localHits + s.redisHits + s.misses + s.coalesced
  }
  const sqlBefore = api.sql.count()
  const lookupsBefore = lookups()
  const result = await run()
  return { result, sql: api.sql.count() - sqlBefore, lookups: lookups() - lookupsBefore }
}

const get = (api: Instance, url: string, etag?: string) =>
  api.app.inject({ method: 'GET', url, headers: etag ? { 'if-none-match': etag } : {} })

function etagOf(response: LightMyRequestResponse): string {
  const etag = response.headers.etag
  expect(etag, `ETag of ${response.statusCode} ${response.body}`).toMatch(/^W\/"[^"]+"$/)
  return etag as string
}

const tiers = [
  { name: 'in-process tier', redis: false },
  { name: 'Redis + in-process tiers', redis: true },
]

describe.each(tiers)('HTTP API on PostgreSQL, $name', ({ redis }) => {
  let api: Instance
  let seeded: Seeded
  const suffix = redis ? '-two-tier' : '-local'

  beforeAll(async () => {
    api = await instance({ redis: redis ? await redisUrl() : undefined })
    seeded = await seed(api.prisma, suffix)
  })
  afterAll(async () => {
    await api?.close()
  })

  it('GET /users/:id answers with the profile, an ETag and Cache-Control; If-None-Match gets a 304 that costs nothing', async () => {
    const url = `/users/${seeded.users.alice}`
    const first = await get(api, url)
    expect(first.statusCode).toBe(200)
    expect(first.json()).toMatchObject({
      id: seeded.users.alice,
      name: 'alice',
      profile: { bio: 'Writes about caches.' },
    })
    expect(first.headers['cache-control']).toBe(cacheControl)
    const etag = etagOf(first)

    // No SQL, and not even a lookup of the cache entry: the versions alone answer.
    const revalidated = await cost(api, () => get(api, url, etag))
    expect(revalidated.result.statusCode).toBe(304)
    expect(revalidated.result.body).toBe('')
    expect(revalidated.result.headers.etag).toBe(etag)
    expect(revalidated.result.headers['cache-control']).toBe(cacheControl)
    expect(revalidated).toMatchObject({ sql: 0, lookups: 0 })

    // A list of tags, weak or strong, as a browser or a proxy may send it.
    const listed = await get(api, url, `W/"other", ${etag.slice(2)}`)
    expect(listed.statusCode).toBe(304)
    const other = await get(api, url, 'W/"other"')
    expect(other.statusCode).toBe(200)
    expect(other.json()).toEqual(first.json())

    // HEAD (exposed by Fastify for every GET route) revalidates the same way.
    const head = await api.app.inject({ method: 'HEAD', url, headers: { 'if-none-match': etag } })
    expect(head.statusCode).toBe(304)
  })

  it('the second GET of a resource is served from the cache, with no SQL', async () => {
    const url = `/users/${seeded.users.bob}/posts`
    const first = await cost(api, () => get(api, url))
    expect(first.result.statusCode).toBe(200)
    expect(first.sql).toBeGreaterThan(0)
    const before = api.prisma.$cache.stats().models.User ?? { localHits: 0 }
    const second = await cost(api, () => get(api, url))
    expect(second.result.statusCode).toBe(200)
    expect(second.result.json()).toEqual(first.result.json())
    expect(second.result.headers.etag).toBe(first.result.headers.etag)
    expect(second).toMatchObject({ sql: 0, lookups: 1 })
    expect(api.prisma.$cache.stats().models.User?.localHits).toBe(before.localHits + 1)
  })

  it('POST, PATCH and DELETE /posts change the ETags of what they touch, and the bodies show the write', async () => {
    const list = `/posts?tag=cache`
    const mine = `/users/${seeded.users.carol}/posts`
    const profile = `/users/${seeded.users.carol}`
    const initial = await get(api, list)
    const listTag = etagOf(initial)
    const mineTag = etagOf(await get(api, mine))
    const profileTag = etagOf(await get(api, profile))

    // POST: a new post tagged `cache` by carol.
    const created = await api.app.inject({
      method: 'POST',
      url: '/posts',
      payload: { title: `Cache-aware HTTP${suffix}`, authorId: seeded.users.carol, tags: ['cache', 'new'] },
    })
    expect(created.statusCode).toBe(201)
    const post = created.json() as { id: number; title: string; tags: string[] }
    expect(created.headers.location).toBe(`/posts/${post.id}`)
    expect(post.tags).toEqual(['cache', 'new'])

    const afterCreate = await get(api, list, listTag)
    expect(afterCreate.statusCode).toBe(200)
    const createdTag = etagOf(afterCreate)
    expect(createdTag).not.toBe(listTag)
    expect(afterCreate.json()).toEqual([...initial.json(), post])
    const mineAfter = await get(api, mine, mineTag)
    expect(mineAfter.statusCode).toBe(200)
    expect((mineAfter.json() as { id: number }[]).map((p) => p.id)).toContain(post.id)
    // The user's own representation (User, Profile) does not involve posts: its ETag still holds.
    expect((await get(api, profile, profileTag)).statusCode).toBe(304)

    // PATCH: new title, and the `cache` tag replaced, so the post leaves the list.
    const patched = await api.app.inject({
      method: 'PATCH',
      url: `/posts/${post.id}`,
      payload: { title: `Cache-aware HTTP, revised${suffix}`, tags: ['http'] },
    })
    expect(patched.statusCode).toBe(200)
    expect(patched.json()).toMatchObject({ id: post.id, title: `Cache-aware HTTP, revised${suffix}`, tags: ['http'] })
    const afterPatch = await get(api, list, createdTag)
    expect(afterPatch.statusCode).toBe(200)
    const patchedTag = etagOf(afterPatch)
    expect(patchedTag).not.toBe(createdTag)
    expect(afterPatch.json()).toEqual(initial.json())
    const httpList = (await get(api, '/posts?tag=http')).json() as { id: number; title: string }[]
    expect(httpList.find((p) => p.id === post.id)?.title).toBe(`Cache-aware HTTP, revised${suffix}`)

    // DELETE: gone from carol's posts; a second DELETE is a 404.
    const mineBeforeDelete = etagOf(await get(api, mine))
    const deleted = await api.app.inject({ method: 'DELETE', url: `/posts/${post.id}` })
    expect(deleted.statusCode).toBe(204)
    const afterDelete = await get(api, mine, mineBeforeDelete)
    expect(afterDelete.statusCode).toBe(200)
    expect(etagOf(afterDelete)).not.toBe(mineBeforeDelete)
    expect((afterDelete.json() as { id: number }[]).map((p) => p.id)).not.toContain(post.id)
    expect((await api.app.inject({ method: 'DELETE', url: `/posts/${post.id}` })).statusCode).toBe(404)
    expect((await get(api, profile, profileTag)).statusCode).toBe(304)
  })

  it('a write to a model a route does not read leaves its ETag alone, one it reads changes it', async () => {
    const url = `/users/${seeded.users.bob}`
    const etag = etagOf(await get(api, url))
    await api.prisma.comment.create({
      data: { body: 'unrelated', postId: seeded.posts[0] as number, authorId: seeded.users.carol },
    })
    expect((await get(api, url, etag)).statusCode).toBe(304)
    await api.prisma.profile.update({ where: { userId: seeded.users.bob }, data: { bio: 'Reads everything once.' } })
    const changed = await get(api, url, etag)
    expect(changed.statusCode).toBe(200)
    expect(changed.json()).toMatchObject({ profile: { bio: 'Reads everything once.' } })

    // User alone: a rename shows at once; a deleted user's posts are a 404, not a 304 of the old list.
    const renamedUser = await api.prisma.user.update({ where: { id: seeded.users.bob }, data: { name: 'robert' } })
    const afterRename = await get(api, url, etagOf(changed))
    expect(afterRename.statusCode).toBe(200)
    expect(afterRename.json()).toMatchObject({ name: renamedUser.name })
    const temp = await api.prisma.user.create({ data: { email: `temp${suffix}@example.com` } })
    const tempPosts = await get(api, `/users/${temp.id}/posts`)
    expect(tempPosts.json()).toEqual([])
    await api.prisma.user.delete({ where: { id: temp.id } })
    const gone = await get(api, `/users/${temp.id}/posts`, etagOf(tempPosts))
    expect(gone.statusCode).toBe(404)
    expect(gone.headers.etag).toBeUndefined()

    // Tag alone (a rename) changes the routes whose responses include tags.
    const list = '/posts?tag=prisma'
    const posts = `/users/${seeded.users.bob}/posts`
    const listTag = etagOf(await get(api, list))
    const postsTag = etagOf(await get(api, posts))
    const userTag = etagOf(await get(api, url))
    await api.prisma.tag.update({ where: { name: 'prisma' }, data: { name: `prisma${suffix}` } })
    try {
      expect((await get(api, list, listTag)).json()).toEqual([])
      const renamed = await get(api, posts, postsTag)
      expect(renamed.statusCode).toBe(200)
      expect((renamed.json() as { tags: string[] }[])[0]?.tags).toEqual([`prisma${suffix}`])
      expect((await get(api, url, userTag)).statusCode).toBe(304)
    } finally {
      await api.prisma.tag.update({ where: { name: `prisma${suffix}` }, data: { name: 'prisma' } })
    }
  })

  it('errors: 404 without an ETag, 400 on bad input, 409 and 422 from Prisma', async () => {
    const missing = await get(api, '/users/999999')
    expect(missing.statusCode).toBe(404)
    expect(missing.headers.etag).toBeUndefined()
    expect((await get(api, '/users/999999/posts')).statusCode).toBe(404)
    expect((await get(api, '/users/abc')).statusCode).toBe(400)
    const bad = await api.app.inject({ method: 'POST', url: '/posts', payload: { title: '' } })
    expect(bad.statusCode).toBe(400)
    const noSuchPost = await api.app.inject({ method: 'PATCH', url: '/posts/999999', payload: { title: 'x' } })
    expect(noSuchPost.statusCode).toBe(404)
    const noSuchAuthor = await api.app.inject({
      method: 'POST',
      url: '/posts',
      payload: { title: 'orphan', authorId: 999999 },
    })
    expect(noSuchAuthor.statusCode).toBe(422)
    const duplicate = await api.app.inject({
      method: 'POST',
      url: '/posts',
      payload: { title: `Versions, not clocks${suffix}`, authorId: seeded.users.alice },
    })
    expect(duplicate.statusCode).toBe(409)
  })

  it('GET /metrics is valid Prometheus text with the hit ratio per model', async () => {
    await get(api, `/users/${seeded.users.alice}`)
    await get(api, `/users/${seeded.users.alice}`)
    const response = await get(api, '/metrics')
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    const samples = parsePrometheus(response.body)
    const stats = api.prisma.$cache.stats()
    for (const model of ['User', 'Post']) {
      const ratio = samples.find((s) => s.name === 'strata_hit_ratio' && s.labels.model === model)
      expect(ratio, `strata_hit_ratio{model="${model}"}`).toBeDefined()
      expect(ratio?.value).toBeCloseTo(stats.models[model]?.hitRatio ?? Number.NaN, 6)
    }
    expect(samples.find((s) => s.name === 'strata_hit_ratio' && s.labels.model === 'User')?.value).toBeGreaterThan(0)
    // Reads are counted per operation too: summed over operations, they are the model's.
    const localHits = samples
      .filter((s) => s.name === 'strata_reads_total' && s.labels.model === 'User' && s.labels.outcome === 'local_hit')
      .reduce((n, s) => n + s.value, 0)
    expect(localHits).toBe(stats.models.User?.localHits)
    const revalidations = samples.filter((s) => s.name === 'http_requests_total' && s.labels.status === '304')
    expect(revalidations.map((s) => s.labels.route)).toContain('/users/:id')
    if (redis) expect(samples.some((s) => s.name === 'strata_read_duration_seconds_count')).toBe(true)
  })

  it('GET /health reports the database and the cache', async () => {
    const health = await get(api, '/health')
    expect(health.statusCode).toBe(200)
    expect(health.headers['cache-control']).toBe('no-store')
    expect(health.json()).toEqual({
      status: 'ok',
      database: 'up',
      cache: { tiers: redis ? 'redis+memory' : 'memory', ready: true, precise: true },
    })
  })
})

describe('two instances sharing Redis', () => {
  let a: Instance
  let b: Instance
  let seeded: Seeded

  beforeAll(async () => {
    const url = await redisUrl()
    const prefix = `${prefixBase}-shared`
    a = await instance({ redis: url, prefix })
    b = await instance({ redis: url, prefix })
    seeded = await seed(a.prisma, '-shared')
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
  })

  it('share entries and ETags: B is served from Redis, revalidates A’s ETag, and sees A’s writes', async () => {
    const url = `/users/${seeded.users.alice}/posts`
    const fromA = await get(a, url)
    const etag = etagOf(fromA)
    const fromB = await cost(b, () => get(b, url))
    expect(fromB.result.json()).toEqual(fromA.json())
    expect(fromB.result.headers.etag).toBe(etag)
    expect(fromB.sql).toBe(0)
    expect(b.prisma.$cache.stats().redisHits).toBe(1)
    expect((await get(b, url, etag)).statusCode).toBe(304)

    const patched = await a.app.inject({
      method: 'PATCH',
      url: `/posts/${seeded.posts[0]}`,
      payload: { title: 'Renamed on A' },
    })
    expect(patched.statusCode).toBe(200)
    // B hears of the write through the bus (a loopback round trip).
    const deadline = Date.now() + 2000
    let onB = await get(b, url, etag)
    while (onB.statusCode === 304 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10))
      onB = await get(b, url, etag)
    }
    expect(onB.statusCode).toBe(200)
    expect((onB.json() as { title: string }[]).map((p) => p.title)).toContain('Renamed on A')
    expect(onB.headers.etag).toBe(etagOf(await get(a, url)))
  })
})

describe('Redis unreachable', () => {
  it('GETs still answer from the database, without an ETag (so never a 304)', async () => {
    const sql = countingAdapter(db.adapter() as PrismaPg)
    const errors: string[] = []
    const prisma = createPrisma({
      adapter: sql.adapter,
      redisUrl: 'redis://127.0.0.1:1',
      prefix: `${prefixBase}-down`,
      cacheOptions: { redisTimeout: 50, onError: (e) => errors.push(e.code) },
    })
    const app = buildApp({ prisma, redis: true })
    try {
      const seeded = await seed(prisma, '-down')
      for (let i = 0; i < 2; i++) {
        const response = await app.inject({ method: 'GET', url: `/users/${seeded.users.alice}` })
        expect(response.statusCode).toBe(200)
        expect(response.json()).toMatchObject({ name: 'alice' })
        expect(response.headers.etag).toBeUndefined()
        expect(response.headers['cache-control']).toBe(cacheControl)
      }
      expect(errors).toContain('E_REDIS_UNAVAILABLE')
      expect((await app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ cache: { ready: false } })
    } finally {
      await app.close()
      await closePrisma(prisma)
    }
  })
})

describe('src/server.ts', () => {
  it('says how to provide a database when DATABASE_URL is not set', async () => {
    const failure = start({ env: {}, log: () => {} })
    await expect(failure).rejects.toBeInstanceOf(ConfigurationError)
    await expect(failure).rejects.toThrow(/DATABASE_URL is not set[\s\S]*--demo/)
  })

  it('listens on PORT (0: any free port) and answers conditional requests over real HTTP', async () => {
    const lines: string[] = []
    const running = await start({ env: { DATABASE_URL: db.url, PORT: '0' }, log: (line) => lines.push(line) })
    try {
      expect(lines.join('\n')).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(in-process tier only\)/)
      const seeded = await seed(running.prisma, '-listen')
      const url = `${running.url}/users/${seeded.users.bob}`
      const first = await fetch(url)
      expect(first.status).toBe(200)
      expect(await first.json()).toMatchObject({ name: 'bob' })
      const etag = first.headers.get('etag')
      expect(etag).toBeTruthy()
      const second = await fetch(url, { headers: { 'if-none-match': etag as string } })
      expect(second.status).toBe(304)
      const metrics = await fetch(`${running.url}/metrics`)
      expect(await metrics.text()).toContain('strata_hit_ratio{model="User"}')
    } finally {
      await running.close()
    }
  })
})

// ---------------------------------------------------------------------------------------------------------------
// A strict reader of the Prometheus text format (0.0.4): every line is a HELP, a TYPE, a comment, blank, or a
// sample of a family declared by a TYPE line before it, with well-formed labels and value, and no series twice.

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

function parsePrometheus(text: string): Sample[] {
  const metricName = '[a-zA-Z_:][a-zA-Z0-9_:]*'
  const labelPair = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`
  const value = '(NaN|[+-]Inf|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)'
  const sampleLine = new RegExp(`^(${metricName})(?:\\{((?:${labelPair},?)*)\\})? ${value}(?: -?\\d+)?$`)
  const types = new Map<string, string>()
  const helps = new Set<string>()
  const seen = new Set<string>()
  const samples: Sample[] = []
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`
    if (line === '') return
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string]
      expect(name, where).toMatch(new RegExp(`^${metricName}$`))
      if (kind === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped'], where).toContain(rest)
        expect(types.has(name), `${where} (second TYPE)`).toBe(false)
        types.set(name, rest)
      } else {
        expect(helps.has(name), `${where} (second HELP)`).toBe(false)
        helps.add(name)
      }
      return
    }
    if (line.startsWith('#')) return
    const match = sampleLine.exec(line)
    expect(match, where).not.toBeNull()
    const [, name, labelText = ''] = match as unknown as [string, string, string | undefined]
    const labels: Record<string, string> = {}
    for (const [, key, val] of labelText.matchAll(new RegExp(labelPair, 'g'))) labels[key as string] = val as string
    const family = [...types.keys()].find(
      (f) =>
        f === name ||
        (types.get(f) === 'histogram' && [`${f}_bucket`, `${f}_sum`, `${f}_count`].includes(name)) ||
        (types.get(f) === 'summary' && [`${f}_sum`, `${f}_count`].includes(name)),
    )
    expect(family, `${where} (no TYPE before it)`).toBeDefined()
    const series = `${name}{${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}}`
    expect(seen.has(series), `${where} (series twice)`).toBe(false)
    seen.add(series)
    const raw = match?.[5] as string
    samples.push({ name, labels, value: raw === '+Inf' ? Number.POSITIVE_INFINITY : Number(raw) })
  })
  expect(samples.length).toBeGreaterThan(0)
  return samples
}
