// src/errors.ts
var StrataError = class extends Error {
  code
  constructor(code, message, options) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}
var StrataOptionsError = class extends StrataError {
  constructor(message) {
    super('E_STRATA_OPTIONS', message)
  }
}
var RedisUnavailableError = class extends StrataError {
  constructor(operation, cause) {
    super('E_REDIS_UNAVAILABLE', `Redis ${operation} failed; the query was answered by the database`, { cause })
  }
}
var CodecError = class extends StrataError {
  constructor(message, cause) {
    super('E_CODEC', message, { cause })
  }
}
var BusError = class extends StrataError {
  constructor(message, cause) {
    super('E_BUS', message, { cause })
  }
}
var EntryTooLargeError = class extends StrataError {
  constructor(bytes, limit) {
    super('E_ENTRY_TOO_LARGE', `a result of ${bytes} bytes is over maxEntryBytes (${limit}); it was not cached`)
  }
}
var ContextMissingError = class extends StrataError {
  constructor(model) {
    super(
      'E_CONTEXT_MISSING',
      `context() returned undefined for a ${model} read; it was answered by the database and not cached. Return the partition (e.g. the tenant id) for every read, or use cache: false.`,
    )
  }
}
var errorCodes = {
  options: 'E_STRATA_OPTIONS',
  redisUnavailable: 'E_REDIS_UNAVAILABLE',
  codec: 'E_CODEC',
  bus: 'E_BUS',
  entryTooLarge: 'E_ENTRY_TOO_LARGE',
  contextMissing: 'E_CONTEXT_MISSING',
}

// src/extension.ts
import { Prisma } from '@prisma/client/extension'

// src/engine.ts
import { randomUUID as randomUUID2 } from 'crypto'
import { Redis } from 'ioredis'

// src/metrics/report.ts
var LOG_INTERVAL_MS = 1e4
function createReporter(stats, onError) {
  const lastLogged = /* @__PURE__ */ new Map()
  return (error) => {
    stats.error(error.code)
    if (onError) {
      try {
        onError(error)
      } catch {}
      return
    }
    const now = Date.now()
    if ((lastLogged.get(error.code) ?? 0) + LOG_INTERVAL_MS > now) return
    lastLogged.set(error.code, now)
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
    console.warn(`[prisma-strata] ${error.code} ${error.message}${cause}`)
  }
}
function asStrataError(error, wrap) {
  return error instanceof StrataError ? error : wrap(error)
}

// src/metrics/stats.ts
function zero() {
  return { localHits: 0, redisHits: 0, misses: 0, coalesced: 0, stale: 0, bypasses: 0 }
}
function ratio(c) {
  const hits = c.localHits + c.redisHits + c.coalesced
  return hits + c.misses === 0 ? 0 : hits / (hits + c.misses)
}
var Stats = class {
  byModel = /* @__PURE__ */ new Map()
  fills = 0
  refreshes = 0
  invalidations = 0
  errors = {}
  model(name2) {
    let counters = this.byModel.get(name2)
    if (!counters) {
      counters = zero()
      this.byModel.set(name2, counters)
    }
    return counters
  }
  error(code) {
    this.errors[code] = (this.errors[code] ?? 0) + 1
  }
  snapshot(local) {
    const total = zero()
    const models = {}
    for (const [name2, c] of this.byModel) {
      total.localHits += c.localHits
      total.redisHits += c.redisHits
      total.misses += c.misses
      total.coalesced += c.coalesced
      total.stale += c.stale
      total.bypasses += c.bypasses
      models[name2] = { ...c, hitRatio: ratio(c) }
    }
    return {
      ...total,
      hitRatio: ratio(total),
      fills: this.fills,
      refreshes: this.refreshes,
      invalidations: this.invalidations,
      errors: { ...this.errors },
      local,
      models,
    }
  }
  reset() {
    this.byModel.clear()
    this.fills = 0
    this.refreshes = 0
    this.invalidations = 0
    for (const key of Object.keys(this.errors)) delete this.errors[key]
  }
}

// src/policy/policy.ts
var Policies = class {
  constructor(options, schema, models) {
    this.options = options
    for (const model of models) {
      let merged = {}
      for (const layer of [schema[model], options.models[model]]) {
        if (layer === false) merged = false
        else if (layer !== void 0) merged = { ...(merged || {}), ...layer }
      }
      if (merged === false) {
        this.byModel.set(model, false)
        continue
      }
      const value = (key) => (merged[key] ?? options[key]) * 1e3
      this.byModel.set(model, {
        ttlMs: value('ttl'),
        negativeTtlMs: value('negativeTtl'),
        swrMs: value('swr'),
        graceMs: value('grace'),
      })
    }
  }
  byModel = /* @__PURE__ */ new Map()
  /** The model's policy, or `false` when it is not cached. */
  of(model) {
    return this.byModel.get(model) ?? false
  }
  /**
   * The times of one entry filled now: its TTL (the query's own, else the model's, shortened by up to `jitter`),
   * then its stale-while-revalidate window, then the grace window, whichever lasts longer.
   */
  times(policy, query, negative) {
    const base = query?.ttl !== void 0 ? query.ttl * 1e3 : negative ? policy.negativeTtlMs : policy.ttlMs
    const ttl = Math.max(1, base * (1 - this.options.jitter * Math.random()))
    const swr = query?.swr !== void 0 ? query.swr * 1e3 : policy.swrMs
    const now = Date.now()
    return { freshUntil: now + ttl, staleUntil: now + ttl + swr, expiresAt: now + ttl + Math.max(swr, policy.graceMs) }
  }
}

// src/schema/model-graph.ts
function buildModelGraph(runtime, foreignKeys) {
  const models = /* @__PURE__ */ new Map()
  for (const [name2, model] of Object.entries(runtime.models)) {
    const relations = /* @__PURE__ */ new Map()
    const scalars = /* @__PURE__ */ new Set()
    for (const field of model.fields) {
      if (field.kind === 'object' && field.relationName) {
        relations.set(field.name, { name: field.name, target: field.type, relationName: field.relationName })
      } else if (field.kind !== 'object') scalars.add(field.name)
    }
    models.set(name2, { name: name2, dbName: model.dbName ?? name2, relations, scalars })
  }
  const joinTables = /* @__PURE__ */ new Map()
  const byRelation = /* @__PURE__ */ new Map()
  for (const model of models.values()) {
    for (const rel of model.relations.values()) {
      const key = rel.relationName
      byRelation.set(key, [...(byRelation.get(key) ?? []), model.name])
    }
  }
  let foreignKeysTo
  if (foreignKeys) {
    foreignKeysTo = /* @__PURE__ */ new Map()
    const withKey = /* @__PURE__ */ new Set()
    for (const fk of foreignKeys) {
      foreignKeysTo.set(fk.parent, [...(foreignKeysTo.get(fk.parent) ?? []), fk])
      const relationName = models.get(fk.child)?.relations.get(fk.childField)?.relationName
      if (relationName) withKey.add(relationName)
    }
    for (const [relationName, sides] of byRelation) {
      const [a, b] = sides
      if (a && b && !withKey.has(relationName)) joinTables.set(`_${relationName}`, [a, b].sort())
    }
  }
  return { models, foreignKeysTo, joinTables }
}
function connectedModels(graph, start) {
  const seen = /* @__PURE__ */ new Set([start])
  const queue = [start]
  for (let name2 = queue.pop(); name2 !== void 0; name2 = queue.pop()) {
    for (const rel of graph.models.get(name2)?.relations.values() ?? []) {
      if (!seen.has(rel.target)) {
        seen.add(rel.target)
        queue.push(rel.target)
      }
    }
  }
  return seen
}
function referencingModels(graph, start) {
  const keys = graph.foreignKeysTo
  if (!keys) return connectedModels(graph, start)
  const seen = /* @__PURE__ */ new Set([start])
  const queue = [start]
  for (let name2 = queue.pop(); name2 !== void 0; name2 = queue.pop()) {
    for (const child of keys.get(name2)?.map((fk) => fk.child) ?? []) {
      if (!seen.has(child)) {
        seen.add(child)
        queue.push(child)
      }
    }
    for (const pair of graph.joinTables.values()) if (pair.includes(name2)) for (const m of pair) seen.add(m)
  }
  return seen
}

// src/options.ts
var topLevelKeys = [
  'redis',
  'prefix',
  'ttl',
  'negativeTtl',
  'jitter',
  'swr',
  'grace',
  'lease',
  'local',
  'models',
  'redisTimeout',
  'maxEntryBytes',
  'context',
  'onError',
]
function fail(path, problem) {
  throw new StrataOptionsError(`cache(): \`${path}\` ${problem}`)
}
function checkKeys(value, allowed, path) {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${path}${key}`, `is not an option. Allowed: ${allowed.join(', ')}.`)
  }
}
function nonNegative(value, path) {
  if (value === void 0) return void 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(path, `must be a number of seconds, 0 or more, got ${JSON.stringify(value)}.`)
  }
  return value
}
function positive(value, path) {
  if (value === void 0) return void 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(path, `must be a positive number, got ${JSON.stringify(value)}.`)
  }
  return value
}
function validateModelPolicy(value, path) {
  if (value === false) return false
  if (typeof value !== 'object' || value === null) fail(path, 'must be `false` or an object like `{ ttl: 300 }`.')
  checkKeys(value, ['ttl', 'negativeTtl', 'swr', 'grace'], `${path}.`)
  const policy = value
  positive(policy.ttl, `${path}.ttl`)
  positive(policy.negativeTtl, `${path}.negativeTtl`)
  nonNegative(policy.swr, `${path}.swr`)
  nonNegative(policy.grace, `${path}.grace`)
  return policy
}
function resolveOptions(options = {}) {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object.')
  checkKeys(options, topLevelKeys, '')
  const { redis } = options
  if (redis !== void 0) {
    const ok =
      (typeof redis === 'string' && /^rediss?:\/\//.test(redis)) || (typeof redis === 'object' && redis !== null)
    if (!ok) fail('redis', 'must be an ioredis Redis or Cluster, ioredis options, or a redis:// URL.')
  }
  const prefix = options.prefix ?? 'strata'
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    fail('prefix', 'must be 1-64 characters of A-Z a-z 0-9 _ . : - (braces would break Redis Cluster hash tags).')
  }
  const jitter = options.jitter ?? 0.1
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) fail('jitter', 'must be a number in [0, 1).')
  let local = { maxBytes: 64 * 1024 * 1024, ttl: void 0 }
  if (options.local === false) local = false
  else if (options.local !== void 0) {
    if (typeof options.local !== 'object' || options.local === null) fail('local', 'must be `false` or an object.')
    checkKeys(options.local, ['maxBytes', 'ttl'], 'local.')
    local = {
      maxBytes: positive(options.local.maxBytes, 'local.maxBytes') ?? local.maxBytes,
      ttl: positive(options.local.ttl, 'local.ttl'),
    }
  }
  const models = {}
  if (options.models !== void 0) {
    if (typeof options.models !== 'object' || options.models === null) fail('models', 'must be an object.')
    for (const [name2, policy] of Object.entries(options.models)) {
      models[name2] = validateModelPolicy(policy, `models.${name2}`)
    }
  }
  if (options.onError !== void 0 && typeof options.onError !== 'function') fail('onError', 'must be a function.')
  let lease = false
  if (options.lease === true) lease = { timeout: 5e3, wait: 250 }
  else if (options.lease !== void 0 && options.lease !== false) {
    if (typeof options.lease !== 'object' || options.lease === null) fail('lease', 'must be a boolean or an object.')
    checkKeys(options.lease, ['timeout', 'wait'], 'lease.')
    lease = {
      timeout: positive(options.lease.timeout, 'lease.timeout') ?? 5e3,
      wait: positive(options.lease.wait, 'lease.wait') ?? 250,
    }
  }
  if (options.context !== void 0 && typeof options.context !== 'function') {
    fail('context', 'must be a function returning the current partition, e.g. () => store.getStore()?.tenantId.')
  }
  return {
    redis,
    prefix,
    ttl: positive(options.ttl, 'ttl') ?? 60,
    negativeTtl: positive(options.negativeTtl, 'negativeTtl') ?? 5,
    jitter,
    swr: nonNegative(options.swr, 'swr') ?? 0,
    grace: nonNegative(options.grace, 'grace') ?? 0,
    lease,
    local,
    models,
    redisTimeout: positive(options.redisTimeout, 'redisTimeout') ?? 200,
    maxEntryBytes: positive(options.maxEntryBytes, 'maxEntryBytes') ?? 1024 * 1024,
    context: options.context,
    onError: options.onError,
  }
}
function validateQueryCache(value) {
  if (value === void 0 || value === false) return value
  if (typeof value !== 'object' || value === null) fail('cache (query argument)', 'must be `false` or an object.')
  checkKeys(value, ['ttl', 'swr', 'tags', 'key'], 'cache.')
  const q = value
  positive(q.ttl, 'cache.ttl')
  nonNegative(q.swr, 'cache.swr')
  if (q.tags !== void 0 && !(Array.isArray(q.tags) && q.tags.every((t) => typeof t === 'string' && t !== ''))) {
    fail('cache.tags', 'must be an array of non-empty strings.')
  }
  if (q.key !== void 0 && (typeof q.key !== 'string' || q.key === '')) fail('cache.key', 'must be a non-empty string.')
  return q
}

// src/schema/schema-text.ts
var actions = /* @__PURE__ */ new Set(['Cascade', 'SetNull', 'SetDefault', 'Restrict', 'NoAction'])
function list(attr, name2) {
  const match = new RegExp(`${name2}\\s*:\\s*\\[([^\\]]*)\\]`).exec(attr)
  return match?.[1]
    ?.split(',')
    .map((s) => s.trim().replace(/\(.*$/, ''))
    .filter(Boolean)
}
function action(attr, name2, fallback) {
  const value = new RegExp(`${name2}\\s*:\\s*(\\w+)`).exec(attr)?.[1]
  if (value === void 0) return fallback
  if (!actions.has(value)) throw new Error(`unknown referential action ${value}`)
  return value
}
function balanced(text, open) {
  let depth = 0
  let quoted = false
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted
    else if (!quoted && c === '(') depth++
    else if (!quoted && c === ')' && --depth === 0) return text.slice(open + 1, i)
  }
  throw new Error('unbalanced parentheses')
}
function parseCacheAnnotation(model, body) {
  const where = `/// @cache(${body}) on model ${model}`
  if (body.trim() === 'false') return false
  if (body.trim() === 'true' || body.trim() === '') return {}
  const policy = {}
  for (const part of body.split(',')) {
    const match = /^\s*(\w+)\s*:\s*(.+?)\s*$/.exec(part)
    if (!match) throw new StrataOptionsError(`${where}: expected key: value pairs, e.g. @cache(ttl: 300).`)
    const [, key = '', raw = ''] = match
    const value = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw.replace(/^"(.*)"$/, '$1')
    policy[key] = value
  }
  try {
    return validateModelPolicy(policy, `@cache on model ${model}`)
  } catch (error) {
    throw new StrataOptionsError(`${where}: ${error.message.replace(/^cache\(\): /, '')}`)
  }
}
function readSchemaText(text) {
  if (!text) return void 0
  const facts = { foreignKeys: [], policies: {} }
  const blocks = /((?:^[ \t]*\/\/\/.*\n)*)^[ \t]*model\s+(\w+)\s*\{([\s\S]*?)^\s*\}/gm
  try {
    for (let m = blocks.exec(text); m; m = blocks.exec(text)) {
      const [, docs = '', model = '', body = ''] = m
      const annotation = /@cache\s*\(/.exec(docs)
      if (annotation) {
        const docText = docs.replace(/^[ \t]*\/\/\/ ?/gm, '')
        const at = docText.indexOf('(', docText.indexOf('@cache'))
        facts.policies[model] = parseCacheAnnotation(model, balanced(docText, at))
      }
      for (const line of body.split('\n')) {
        const field = /^\s*(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line)
        if (!field) continue
        const [, name2 = '', type = '', , optional, attrs = ''] = field
        const at = attrs.indexOf('@relation(')
        if (at < 0) continue
        const relation = balanced(attrs, at + '@relation'.length)
        const fields = list(relation, 'fields')
        const references = list(relation, 'references')
        if (!fields || !references) continue
        facts.foreignKeys.push({
          child: model,
          childField: name2,
          fields,
          parent: type,
          references,
          onDelete: action(relation, 'onDelete', optional ? 'SetNull' : 'Restrict'),
          onUpdate: action(relation, 'onUpdate', 'Cascade'),
        })
      }
    }
  } catch (error) {
    if (error instanceof StrataOptionsError) throw error
    return void 0
  }
  return facts
}

// src/store/bus.ts
var Bus = class {
  constructor(client, channel, origin, handlers, report) {
    this.client = client
    this.channel = channel
    this.origin = origin
    this.handlers = handlers
    this.report = report
  }
  subscriber
  closed = false
  start() {
    const sub = this.client.duplicate()
    this.subscriber = sub
    let up = false
    const down = () => {
      up = false
      this.handlers.down()
    }
    const subscribe = () => {
      sub.subscribe(this.channel).then(
        () => {
          if (!up && !this.closed) {
            up = true
            this.handlers.up()
          }
        },
        (error) => this.report(new BusError('could not subscribe to the invalidation channel', error)),
      )
    }
    sub.on('message', (channel, text) => {
      if (channel === this.channel) this.receive(text)
    })
    sub.on('ready', subscribe)
    sub.on('close', down)
    sub.on('error', (error) => this.report(new BusError('invalidation bus connection failed', error)))
    subscribe()
  }
  receive(text) {
    const parts = text.split(' ')
    if (parts[0] === this.origin) return
    const names = []
    const versions = []
    for (let i = 1; i + 1 < parts.length; i += 2) {
      const version = Number(parts[i + 1])
      if (!Number.isSafeInteger(version)) {
        this.report(new BusError(`malformed bus message: ${text.slice(0, 80)}`))
        return
      }
      names.push(parts[i])
      versions.push(version)
    }
    this.handlers.message(names, versions)
  }
  async close() {
    this.closed = true
    this.subscriber?.disconnect()
  }
}

// src/store/keys.ts
import { createHash } from 'crypto'

function hash(text) {
  return createHash('sha256').update(text).digest('base64url').slice(0, 24)
}
function modelVersionName(model) {
  return `m:${model}`
}
function tagVersionName(tag) {
  return `t:${hash(tag)}`
}
function keySpace(prefix) {
  return {
    version: (name2) => `{${prefix}}:v:${name2}`,
    lease: (query) => `{${prefix}}:l:${hash(query)}`,
    entry: (model, query) => `${prefix}:e:${model}:${hash(query)}`,
    channel: `${prefix}:bus`,
  }
}

// src/store/leases.ts
// src/store/redis-tier.ts
import { createHash as createHash2, randomUUID } from 'crypto'

var FAILED = Symbol('strata.redis-failed')
var BREAKER_THRESHOLD = 3
var BREAKER_MIN_OPEN_MS = 500
var BREAKER_MAX_OPEN_MS = 1e4
var RedisTier = class {
  constructor(client, timeoutMs, report) {
    this.client = client
    this.timeoutMs = timeoutMs
    this.report = report
  }
  failures = 0
  openUntil = 0
  openFor = BREAKER_MIN_OPEN_MS
  shas = /* @__PURE__ */ new Map()
  /** False while the breaker is open: callers skip Redis without waiting. */
  get available() {
    return this.openUntil <= Date.now()
  }
  async guard(operation, run) {
    if (!this.available) return FAILED
    let timer
    try {
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs)
      })
      const result = await Promise.race([run(), timeout])
      this.failures = 0
      this.openFor = BREAKER_MIN_OPEN_MS
      return result
    } catch (error) {
      if (++this.failures >= BREAKER_THRESHOLD) {
        this.openUntil = Date.now() + this.openFor
        this.openFor = Math.min(this.openFor * 2, BREAKER_MAX_OPEN_MS)
      }
      this.report(new RedisUnavailableError(operation, error))
      return FAILED
    } finally {
      clearTimeout(timer)
    }
  }
  get(key) {
    return this.guard('GET', () => this.client.getBuffer(key))
  }
  set(key, value, ttlMs) {
    return this.guard('SET', () => this.client.set(key, value, 'PX', Math.max(1, Math.floor(ttlMs))))
  }
  /** EVALSHA, loading the script on NOSCRIPT (after a restart or a failover). */
  script(source, keys, args) {
    let sha = this.shas.get(source)
    if (!sha) {
      sha = createHash2('sha1').update(source).digest('hex')
      this.shas.set(source, sha)
    }
    const digest = sha
    return this.guard('EVALSHA', async () => {
      try {
        return await this.client.evalsha(digest, keys.length, ...keys, ...args)
      } catch (error) {
        if (!String(error?.message).includes('NOSCRIPT')) throw error
        return await this.client.eval(source, keys.length, ...keys, ...args)
      }
    })
  }
}

// src/store/scripts.ts
var SEED_FLOOR = '1000000000000'
var readVersions = `
local out = {}
local seed
for i, key in ipairs(KEYS) do
  local raw = redis.pcall('GET', key)
  local v = type(raw) == 'string' and tonumber(raw) or nil
  if not v or v < ${SEED_FLOOR} or v ~= math.floor(v) then
    if not seed then
      local t = redis.call('TIME')
      seed = tonumber(t[1]) * 1000000 + tonumber(t[2])
    end
    v = seed
    redis.call('SET', key, string.format('%.0f', v))
  end
  out[i] = v
end
return out`
var bumpVersions = `
local t = redis.call('TIME')
local seed = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
local message = { ARGV[2] }
for i, key in ipairs(KEYS) do
  local v = redis.pcall('INCR', key)
  if type(v) ~= 'number' or v < ${SEED_FLOOR} then
    v = seed
    redis.call('SET', key, string.format('%.0f', v))
  end
  out[i] = v
  message[#message + 1] = ARGV[i + 2]
  message[#message + 1] = string.format('%.0f', v)
end
redis.call('PUBLISH', ARGV[1], table.concat(message, ' '))
return out`
var leaseAllowsFill = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #KEYS do
  if tonumber(redis.call('GET', KEYS[i])) ~= tonumber(ARGV[i]) then return 0 end
end
return 1`
var releaseLease = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

// src/store/leases.ts
var HELD_ELSEWHERE = Symbol('strata.lease-held-elsewhere')
var Leases = class {
  constructor(redis, keys, timeoutMs, waitMs) {
    this.redis = redis
    this.keys = keys
    this.timeoutMs = timeoutMs
    this.waitMs = waitMs
  }
  /** A token if this instance now holds the lease; `HELD_ELSEWHERE`; or undefined when Redis did not answer. */
  async acquire(query) {
    const token = randomUUID()
    const reply = await this.redis.guard('SET NX', () =>
      this.redis.client.set(this.keys.lease(query), token, 'PX', this.timeoutMs, 'NX'),
    )
    if (reply === FAILED) return void 0
    return reply === 'OK' ? token : HELD_ELSEWHERE
  }
  /** Whether the holder may store its fill: the lease is still its own and `versions` are still current. */
  async allowsFill(query, token, deps, versions) {
    const reply = await this.redis.script(
      leaseAllowsFill,
      [this.keys.lease(query), ...deps.map((d) => this.keys.version(d))],
      [token, ...versions.map(String)],
    )
    return reply === 1
  }
  release(query, token) {
    return this.redis.script(releaseLease, [this.keys.lease(query)], [token])
  }
}

// src/store/local-tier.ts
import { LRUCache } from 'lru-cache'

var ENTRY_OVERHEAD = 96
var DECODED_SIZE_FACTOR = 3
var LocalTier = class {
  lru
  ttlCap
  constructor(maxBytes, ttlCapSeconds) {
    this.ttlCap = ttlCapSeconds === void 0 ? Number.POSITIVE_INFINITY : ttlCapSeconds * 1e3
    this.lru = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: (entry, key) =>
        entry.encodedBytes * DECODED_SIZE_FACTOR + key.length * 2 + entry.deps.length * 24 + ENTRY_OVERHEAD,
      ttlAutopurge: false,
    })
  }
  get(key) {
    return this.lru.get(key)
  }
  /** Stores for at most `ttlMs` (and the cap); an entry too large for the tier is simply not kept. */
  set(key, entry, ttlMs) {
    const ttl = Math.floor(Math.min(ttlMs, this.ttlCap))
    if (ttl >= 1) this.lru.set(key, entry, { ttl })
  }
  clear() {
    this.lru.clear()
  }
  get size() {
    return this.lru.size
  }
  get bytes() {
    return this.lru.calculatedSize
  }
}

// src/store/versions.ts
var Versions = class {
  constructor(redis, keys, origin, stats) {
    this.redis = redis
    this.keys = keys
    this.origin = origin
    this.stats = stats
    this.trusted = redis === void 0
  }
  known = /* @__PURE__ */ new Map()
  /** Whether `known` may answer without asking Redis. Always with no Redis; with Redis, while the bus is up. */
  trusted
  /** Changes whenever trust changes, so a Redis answer that raced a bus drop is not kept. */
  epoch = 0
  /** Bumps that could not reach Redis: Redis is not used for reads until they are made. */
  owed = /* @__PURE__ */ new Set()
  /** Without Redis, versions start here: never a value an earlier process used for its (local) entries. */
  localSeed = Date.now() * 1e3
  /** The hit-path check: does `versions` still equal what is known for `deps`? */
  matches(deps, versions) {
    if (!this.trusted) return false
    for (let i = 0; i < deps.length; i++) {
      if (this.current(deps[i]) !== versions[i]) return false
    }
    return true
  }
  current(name2) {
    const v = this.known.get(name2)
    if (v !== void 0 || this.redis) return v
    this.known.set(name2, this.localSeed)
    return this.localSeed
  }
  /** The versions of `deps` without a round trip, when every one is known and trusted. */
  peek(deps) {
    if (!this.trusted) return void 0
    const out = []
    for (const name2 of deps) {
      const v = this.current(name2)
      if (v === void 0) return void 0
      out.push(v)
    }
    return out
  }
  /** The current versions of `deps`, asking Redis for what is not known; `undefined` when Redis cannot answer. */
  async snapshot(deps) {
    const local = this.peek(deps)
    if (local || !this.redis) return local
    if (this.owed.size > 0 && !(await this.flushOwed())) return void 0
    const epoch = this.epoch
    const reply = await this.redis.script(
      readVersions,
      deps.map((d) => this.keys.version(d)),
      [],
    )
    if (reply === FAILED || !Array.isArray(reply) || reply.length !== deps.length) return void 0
    const values = reply.map(Number)
    deps.forEach((name2, i) => {
      const known = this.known.get(name2)
      if (known !== void 0 && known > values[i]) values[i] = known
      else if (this.trusted && epoch === this.epoch) this.known.set(name2, values[i])
    })
    return values
  }
  /** Makes every entry depending on `names` stale, here at once and elsewhere through the bus. */
  async bump(names) {
    if (names.length === 0) return
    this.stats.invalidations += names.length
    if (!this.redis) {
      for (const name2 of names) this.known.set(name2, this.current(name2) + 1)
      return
    }
    for (const name2 of names) this.known.delete(name2)
    if (!(await this.sendBump(names))) for (const name2 of names) this.owed.add(name2)
  }
  async sendBump(names) {
    const redis = this.redis
    const reply = await redis.script(
      bumpVersions,
      names.map((n) => this.keys.version(n)),
      [this.keys.channel, this.origin, ...names],
    )
    if (reply === FAILED || !Array.isArray(reply)) return false
    this.apply(names, reply.map(Number))
    return true
  }
  async flushOwed() {
    const names = [...this.owed]
    if (!(await this.sendBump(names))) return false
    for (const name2 of names) this.owed.delete(name2)
    return true
  }
  /** New versions from a bump (ours or, through the bus, another process's). */
  apply(names, versions) {
    if (!this.trusted && this.redis) return
    names.forEach((name2, i) => {
      const v = versions[i]
      if (!((this.known.get(name2) ?? 0) >= v)) this.known.set(name2, v)
    })
  }
  /** The bus is down: forget every version, ask Redis until it is back (DESIGN invariant 6). */
  distrust() {
    this.trusted = false
    this.epoch++
    this.known.clear()
  }
  /** The bus is subscribed again: what is learned from now on is kept fresh by it. */
  trust() {
    this.known.clear()
    this.trusted = true
    this.epoch++
  }
  get isTrusted() {
    return this.trusted
  }
}

// src/transaction/pending-transactions.ts
var PendingTransactions = class {
  byId = /* @__PURE__ */ new Map()
  open(id) {
    if (!this.byId.has(id)) this.byId.set(id, /* @__PURE__ */ new Set())
  }
  /** Records the version names a write in transaction `id` touches; false if that transaction is not ours. */
  defer(id, names) {
    const pending = this.byId.get(id)
    if (!pending) return false
    for (const name2 of names) pending.add(name2)
    return true
  }
  /** Closes transaction `id`, returning what its writes touched. */
  close(id) {
    const pending = this.byId.get(id)
    this.byId.delete(id)
    return pending ? [...pending].sort() : []
  }
}

// src/engine.ts
function isClient(value) {
  return typeof value?.getBuffer === 'function'
}
var Engine = class {
  graph
  policies
  stats = new Stats()
  report
  keys
  local
  redis
  versions
  /** Database queries under way, by query text and snapshot: concurrent identical misses share one. */
  inflight = /* @__PURE__ */ new Map()
  /** Query texts with a background refresh under way (stale-while-revalidate). */
  refreshing = /* @__PURE__ */ new Set()
  leases
  transactions = new PendingTransactions()
  /** Whether the model graph knows foreign keys (schema text read) or invalidates conservatively. */
  precise
  maxEntryBytes
  /** The partition of the current read (`options.context`), or undefined when the cache is not partitioned. */
  context
  bus
  ownedClient
  versionNames = /* @__PURE__ */ new Map()
  readyWaiters = []
  constructor(options, client) {
    const runtime = client._runtimeDataModel
    const facts = readSchemaText(client._engineConfig?.inlineSchema)
    this.graph = buildModelGraph(runtime, facts?.foreignKeys)
    this.precise = this.graph.foreignKeysTo !== void 0
    this.maxEntryBytes = options.maxEntryBytes
    this.context = options.context
    const models = Object.keys(runtime.models)
    for (const name2 of Object.keys(options.models)) {
      if (!models.includes(name2)) {
        throw new StrataOptionsError(
          `cache(): \`models.${name2}\` is not a model of this client. Models: ${models.join(', ')}.`,
        )
      }
    }
    for (const name2 of models) this.versionNames.set(name2, modelVersionName(name2))
    this.policies = new Policies(options, facts?.policies ?? {}, models)
    this.report = createReporter(this.stats, options.onError)
    this.keys = keySpace(options.prefix)
    this.local = options.local ? new LocalTier(options.local.maxBytes, options.local.ttl) : void 0
    const origin = randomUUID2().slice(0, 8)
    let redisClient
    if (isClient(options.redis)) redisClient = options.redis
    else if (options.redis !== void 0) {
      const own =
        typeof options.redis === 'string'
          ? new Redis(options.redis, { maxRetriesPerRequest: 2 })
          : new Redis({ maxRetriesPerRequest: 2, ...options.redis })
      own.on('error', () => {})
      this.ownedClient = own
      redisClient = own
    }
    this.redis = redisClient ? new RedisTier(redisClient, options.redisTimeout, this.report) : void 0
    this.versions = new Versions(this.redis, this.keys, origin, this.stats)
    this.leases =
      this.redis && options.lease
        ? new Leases(this.redis, this.keys, options.lease.timeout, options.lease.wait)
        : void 0
    if (redisClient) {
      this.bus = new Bus(
        redisClient,
        this.keys.channel,
        origin,
        {
          message: (names, versions) => this.versions.apply(names, versions),
          down: () => {
            this.versions.distrust()
            this.local?.clear()
          },
          up: () => {
            this.versions.trust()
            for (const resolve of this.readyWaiters.splice(0)) resolve(true)
          },
        },
        this.report,
      )
      this.bus.start()
    }
  }
  modelVersionName(model) {
    return this.versionNames.get(model) ?? modelVersionName(model)
  }
  reportCodec(message, cause) {
    this.report(new CodecError(message, cause))
  }
  reportTooLarge(bytes) {
    this.report(new EntryTooLargeError(bytes, this.maxEntryBytes))
  }
  /** Bumps the versions of models and tags: every entry depending on one of them stops being served. */
  invalidate(models, tags = []) {
    const names = [...models.map((m) => this.modelVersionName(m)), ...tags.map(tagVersionName)]
    return this.versions.bump([...new Set(names)].sort())
  }
  /** Resolves true once local hits need no Redis round trip (the bus is subscribed), false after `timeoutMs`. */
  whenReady(timeoutMs) {
    if (this.versions.isTrusted) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.readyWaiters.indexOf(done)
        if (i >= 0) this.readyWaiters.splice(i, 1)
        resolve(false)
      }, timeoutMs)
      const done = (ready) => {
        clearTimeout(timer)
        resolve(ready)
      }
      this.readyWaiters.push(done)
    })
  }
  async close() {
    await this.bus?.close()
    this.ownedClient?.disconnect()
    this.local?.clear()
  }
}

// src/store/codec.ts
import { Decimal } from '@prisma/client/runtime/client'
import { addExtension, Packr } from 'msgpackr'

addExtension({
  Class: Decimal,
  type: 68,
  write: (value) => value.toString(),
  read: (text) => new Decimal(text),
})
var packr = new Packr({ moreTypes: true, int64AsType: 'bigint', useRecords: true })
var MAGIC = 83
var FORMAT_VERSION = 1
function encodeValue(value) {
  return packr.pack(value)
}
function decodeValue(bytes) {
  return packr.unpack(bytes)
}
function encodeEntry(entry) {
  const body = packr.pack([
    entry.query,
    entry.deps,
    entry.versions,
    entry.freshUntil,
    entry.staleUntil,
    entry.expiresAt,
    entry.value,
  ])
  const frame = Buffer.allocUnsafe(body.length + 2)
  frame[0] = MAGIC
  frame[1] = FORMAT_VERSION
  body.copy(frame, 2)
  return frame
}
function decodeEntry(frame) {
  if (frame.length < 3 || frame[0] !== MAGIC) throw new CodecError('not a Strata entry (foreign bytes under our key)')
  if (frame[1] !== FORMAT_VERSION)
    throw new CodecError(`entry of format ${frame[1]}, this version reads ${FORMAT_VERSION}`)
  let parts
  try {
    parts = packr.unpack(frame.subarray(2))
  } catch (error) {
    throw new CodecError('corrupt or truncated entry', error)
  }
  if (!Array.isArray(parts) || parts.length !== 7) throw new CodecError('entry has the wrong shape')
  const [query, deps, versions, freshUntil, staleUntil, expiresAt, value] = parts
  if (
    typeof query !== 'string' ||
    !Array.isArray(deps) ||
    !Array.isArray(versions) ||
    deps.length !== versions.length ||
    typeof freshUntil !== 'number' ||
    typeof staleUntil !== 'number' ||
    typeof expiresAt !== 'number' ||
    !(value instanceof Uint8Array)
  ) {
    throw new CodecError('entry has the wrong shape')
  }
  return { query, deps, versions, freshUntil, staleUntil, expiresAt, value }
}

// src/store/copy.ts
function copyResult(value) {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    const out = new Array(value.length)
    for (let i = 0; i < value.length; i++) out[i] = copyResult(value[i])
    return out
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    const out = {}
    for (const key in value) out[key] = copyResult(value[key])
    return out
  }
  if (value instanceof Date) return new Date(value.getTime())
  if (value instanceof Uint8Array) return value.slice()
  return value
}

// src/read/dependencies.ts
var relationFilterKeys = ['some', 'every', 'none', 'is', 'isNot']
var logicalKeys = ['AND', 'OR', 'NOT']
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
function each(value, visit) {
  if (Array.isArray(value)) for (const item of value) visit(item)
  else visit(value)
}
function readDependencies(graph, model, args) {
  const deps = /* @__PURE__ */ new Set([model])
  if (args) visitArgs(graph, model, args, deps)
  return [...deps].sort()
}
function visitArgs(graph, model, args, deps) {
  const info = graph.models.get(model)
  if (!info) return
  visitSelection(graph, info, args.include, deps)
  visitSelection(graph, info, args.select, deps)
  visitWhere(graph, info, args.where, deps)
  visitWhere(graph, info, args.having, deps)
  visitOrderBy(graph, info, args.orderBy, deps)
}
function visitSelection(graph, info, selection, deps) {
  if (!isObject(selection)) return
  for (const [key, value] of Object.entries(selection)) {
    if (!value) continue
    if (key === '_count') {
      if (isObject(value) && isObject(value.select)) visitSelection(graph, info, value.select, deps)
      else;
      continue
    }
    const rel = info.relations.get(key)
    if (!rel) continue
    deps.add(rel.target)
    if (isObject(value)) visitArgs(graph, rel.target, value, deps)
  }
}
function visitWhere(graph, info, where, deps) {
  each(where, (clause) => {
    if (!isObject(clause)) return
    for (const [key, value] of Object.entries(clause)) {
      if (logicalKeys.includes(key)) {
        visitWhere(graph, info, value, deps)
        continue
      }
      const rel = info.relations.get(key)
      if (!rel) continue
      deps.add(rel.target)
      const target = graph.models.get(rel.target)
      if (!target || !isObject(value)) continue
      const filters = relationFilterKeys.filter((k) => k in value)
      if (filters.length) for (const k of filters) visitWhere(graph, target, value[k], deps)
      else visitWhere(graph, target, value, deps)
    }
  })
}
function visitOrderBy(graph, info, orderBy, deps) {
  each(orderBy, (clause) => {
    if (!isObject(clause)) return
    for (const [key, value] of Object.entries(clause)) {
      const rel = info.relations.get(key)
      if (!rel) continue
      deps.add(rel.target)
      const target = graph.models.get(rel.target)
      if (target && isObject(value)) visitOrderBy(graph, target, value, deps)
    }
  })
}

// src/read/not-found.ts
import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client'

var clientVersion = 'unknown'
function isNotFoundError(error) {
  return error?.code === 'P2025'
}
function notFoundError(model, operation) {
  const jsModel = model.charAt(0).toLowerCase() + model.slice(1)
  const message = `
Invalid \`prisma.${jsModel}.${operation}()\` invocation:


An operation failed because it depends on one or more records that were required but not found. No record was found for a query.`
  return new PrismaClientKnownRequestError(message, {
    code: 'P2025',
    clientVersion,
    meta: { modelName: model, operation: 'a query' },
  })
}

// src/read/canonical.ts
import { Decimal as Decimal2 } from '@prisma/client/runtime/client'

var plainPrototypes = /* @__PURE__ */ new Set([Object.prototype, null])
var plainKey = /^[A-Za-z_][A-Za-z0-9_]*$/
var orderedKeys = /* @__PURE__ */ new Set(['orderBy'])
function canonical(value, keepOrder = false) {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Number.isFinite(value) ? String(value) : `#${value}`
    case 'boolean':
      return value ? 'T' : 'F'
    case 'bigint':
      return `${value}n`
    case 'undefined':
      return 'U'
    case 'object':
      return value === null ? 'N' : canonicalObject(value, keepOrder)
    default:
      return `?${String(value)}`
  }
}
function canonicalObject(value, keepOrder) {
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonical(value[i], keepOrder)
    return `${out}]`
  }
  if (value instanceof Date) return `D${value.getTime()}`
  if (ArrayBuffer.isView(value)) {
    return `X${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}`
  }
  const proto = Object.getPrototypeOf(value)
  if (!plainPrototypes.has(proto)) {
    if (Decimal2.isDecimal(value)) return `M${value.toString()}`
    const name2 = value.constructor?.name ?? 'Object'
    return `${name2}${canonicalFields(value, keepOrder)}`
  }
  return canonicalFields(value, keepOrder)
}
function canonicalFields(value, keepOrder) {
  const keys = Object.keys(value)
  if (!keepOrder) keys.sort()
  let out = '{'
  let first = true
  for (const key of keys) {
    const field = value[key]
    if (field === void 0) continue
    const name2 = plainKey.test(key) ? key : JSON.stringify(key)
    out += `${first ? '' : ','}${name2}:${canonical(field, keepOrder || orderedKeys.has(key))}`
    first = false
  }
  return `${out}}`
}

// src/read/read-call.ts
var orThrow = (operation) => operation.endsWith('OrThrow')
function sharedOperation(operation) {
  return orThrow(operation) ? operation.slice(0, -'OrThrow'.length) : operation
}
function queryText(call) {
  const scope = call.partition === void 0 ? '' : `${JSON.stringify(call.partition)}|`
  if (call.query?.key !== void 0) return `${scope}${call.model}|key|${JSON.stringify(call.query.key)}`
  return `${scope}${call.model}|${sharedOperation(call.operation)}|${canonical(call.args)}`
}
function answer(call, value, notFound) {
  if (value === null && orThrow(call.operation)) throw notFound ?? notFoundError(call.model, call.operation)
  return value
}
function sameVersions(a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
var FRESH = 0
var STALE = 1
var EXPIRED = 2
function freshness(times) {
  if (times === void 0) return FRESH
  const now = Date.now()
  return now < times.freshUntil ? FRESH : now < times.staleUntil ? STALE : EXPIRED
}

// src/read/fill.ts
async function load(engine, call, target) {
  let value
  let notFound
  try {
    value = await call.execute()
  } catch (error) {
    if (orThrow(call.operation) && isNotFoundError(error)) {
      value = null
      notFound = error
    } else {
      if (target.lease) void engine.leases?.release(target.text, target.lease)
      if (target.grace === void 0) throw error
      engine.stats.model(call.model).stale++
      return { value: copyResult(target.grace), master: target.grace, cached: true, stale: true }
    }
  }
  const master = store(engine, call, target, value)
  return { value, master, cached: master !== void 0, notFound }
}
function store(engine, call, target, value) {
  let bytes
  try {
    bytes = encodeValue(value)
  } catch (error) {
    engine.reportCodec('a result could not be encoded; it was not cached', error)
    return void 0
  }
  if (bytes.byteLength > engine.maxEntryBytes) {
    engine.report(new EntryTooLargeError(bytes.byteLength, engine.maxEntryBytes))
    return void 0
  }
  const { text, deps, versions, redisKey, lease } = target
  const times = engine.policies.times(call.policy, call.query, value === null)
  const master = copyResult(value)
  const windows = times.staleUntil > times.freshUntil || times.expiresAt > times.staleUntil
  engine.local?.set(
    text,
    { value: master, encodedBytes: bytes.byteLength, deps, versions, times: windows ? times : void 0 },
    times.expiresAt - Date.now(),
  )
  engine.stats.fills++
  if (engine.redis && redisKey) {
    const frame = encodeEntry({ query: text, deps, versions, ...times, value: bytes })
    const ttl = times.expiresAt - Date.now()
    if (lease && engine.leases) {
      const leases = engine.leases
      void (async () => {
        const ok = await leases.allowsFill(text, lease, deps, versions)
        if (process.env.STRATA_TRACE)
          process.stderr.write('ALLOWS ' + ok + ' ' + JSON.stringify([deps, versions]) + '\n')
        if (ok) await engine.redis?.set(redisKey, frame, ttl)
        await leases.release(text, lease)
      })()
    } else void engine.redis.set(redisKey, frame, ttl)
  }
  return master
}

// src/read/refresh.ts
function refreshInBackground(engine, call, text, deps) {
  if (engine.refreshing.has(text)) return
  engine.refreshing.add(text)
  void (async () => {
    try {
      const versions = await engine.versions.snapshot(deps)
      if (versions === void 0) return
      const redisKey = engine.redis ? engine.keys.entry(call.model, text) : void 0
      let lease
      if (engine.leases && redisKey) {
        const acquired = await engine.leases.acquire(text)
        if (typeof acquired !== 'string') return
        lease = acquired
      }
      engine.stats.refreshes++
      await load(engine, call, { text, deps, versions, redisKey, lease })
    } catch (error) {
      engine.report(
        asStrataError(
          error,
          (cause) =>
            new StrataError('E_REFRESH_FAILED', 'a background refresh failed; the stale entry stays', { cause }),
        ),
      )
    } finally {
      engine.refreshing.delete(text)
    }
  })()
}

// src/read/read-path.ts
function cachedRead(engine, call) {
  const text = queryText(call)
  const local = engine.local?.get(text)
  if (local !== void 0 && engine.versions.matches(local.deps, local.versions)) {
    const age = freshness(local.times)
    if (age !== EXPIRED) {
      const counters = engine.stats.model(call.model)
      counters.localHits++
      if (age === STALE) {
        counters.stale++
        refreshInBackground(engine, call, text, local.deps)
      }
      try {
        return Promise.resolve(answer(call, copyResult(local.value)))
      } catch (error) {
        return Promise.reject(error)
      }
    }
  }
  return slowRead(engine, call, text, local)
}
async function slowRead(engine, call, text, seen) {
  const counters = engine.stats.model(call.model)
  const deps = seen?.deps ?? dependencyNames(engine, call)
  const versions = await engine.versions.snapshot(deps)
  if (versions === void 0) {
    counters.bypasses++
    return call.execute()
  }
  const local = engine.local?.get(text)
  let grace
  if (local !== void 0 && sameVersions(local.versions, versions)) {
    const age = freshness(local.times)
    if (age !== EXPIRED) {
      counters.localHits++
      if (age === STALE) {
        counters.stale++
        refreshInBackground(engine, call, text, deps)
      }
      return answer(call, copyResult(local.value))
    }
    grace = local.value
  }
  const flightKey = `${text}@${versions.join(',')}`
  const waiting = engine.inflight.get(flightKey)
  if (waiting) {
    const outcome = await waiting
    counters.coalesced++
    const value = outcome.cached ? copyResult(outcome.master) : await call.execute()
    return answer(call, value)
  }
  const redisKey = engine.redis ? engine.keys.entry(call.model, text) : void 0
  const flight = lookupOrLoad(engine, call, { text, deps, versions, redisKey, grace })
  engine.inflight.set(flightKey, flight)
  try {
    const outcome = await flight
    if (outcome.fromRedis) counters.redisHits++
    else counters.misses++
    return answer(call, outcome.value, outcome.notFound)
  } finally {
    engine.inflight.delete(flightKey)
  }
}
async function lookupOrLoad(engine, call, target) {
  const { text, deps, versions, redisKey } = target
  if (!redisKey) return load(engine, call, target)
  const found = await redisLookup(engine, redisKey, text, deps, versions)
  if (found) {
    const age = freshness(found.times)
    if (age !== EXPIRED) {
      if (age === STALE) {
        engine.stats.model(call.model).stale++
        refreshInBackground(engine, call, text, deps)
      }
      return { value: copyResult(found.master), master: found.master, cached: true, fromRedis: true }
    }
    target.grace ??= found.master
  }
  if (engine.leases) {
    const lease = await engine.leases.acquire(text)
    if (typeof lease === 'string') {
      const filled = await redisLookup(engine, redisKey, text, deps, versions)
      if (filled && freshness(filled.times) === FRESH) {
        void engine.leases.release(text, lease)
        return { value: copyResult(filled.master), master: filled.master, cached: true, fromRedis: true }
      }
      return load(engine, call, { ...target, lease })
    }
    if (lease === HELD_ELSEWHERE) {
      const filled = await waitForFill(engine, redisKey, target)
      if (filled) return { value: copyResult(filled), master: filled, cached: true, fromRedis: true }
    }
  }
  return load(engine, call, target)
}
async function waitForFill(engine, redisKey, target) {
  const leases = engine.leases
  if (!leases) return void 0
  const deadline = Date.now() + leases.waitMs
  const step = Math.max(2, Math.min(20, leases.waitMs / 10))
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, step))
    const found = await redisLookup(engine, redisKey, target.text, target.deps, target.versions)
    if (found && freshness(found.times) === FRESH) return found.master
  }
  return void 0
}
function dependencyNames(engine, call) {
  const models = readDependencies(engine.graph, call.model, call.args)
  const names = models.map((m) => engine.modelVersionName(m))
  if (call.query?.tags) for (const tag of call.query.tags) names.push(tagVersionName(tag))
  return names.sort()
}
async function redisLookup(engine, key, text, deps, versions) {
  const frame = await engine.redis?.get(key)
  if (!frame || frame === FAILED) return void 0
  if (frame.length > engine.maxEntryBytes + 1024) {
    engine.reportTooLarge(frame.length)
    return void 0
  }
  let entry
  let master
  try {
    entry = decodeEntry(frame)
    if (entry.query !== text || !sameVersions(entry.versions, versions)) return void 0
    master = decodeValue(entry.value)
  } catch (error) {
    engine.reportCodec('an entry under one of our keys could not be read', error)
    return void 0
  }
  const times = { freshUntil: entry.freshUntil, staleUntil: entry.staleUntil }
  const windows = entry.staleUntil > entry.freshUntil || entry.expiresAt > entry.staleUntil
  engine.local?.set(
    text,
    { value: master, encodedBytes: entry.value.byteLength, deps, versions, times: windows ? times : void 0 },
    entry.expiresAt - Date.now(),
  )
  return { master, times }
}

// src/read/lazy-read.ts
function fluentSelect(steps, i) {
  const [field, args] = steps[i]
  if (i === steps.length - 1) return { [field]: args ?? true }
  return { [field]: { ...args, select: fluentSelect(steps, i + 1) } }
}
function withoutSelection(args) {
  const { select: _select, include: _include, omit: _omit, ...rest } = args ?? {}
  return rest
}
function followPath(value, steps) {
  let current = value
  for (const [field] of steps) {
    if (current === null || current === void 0) return null
    current = current[field]
  }
  return current ?? null
}
var LazyRead = class {
  constructor(engine, delegate, model, operation, rootArgs, query, policy, partition, steps = []) {
    this.engine = engine
    this.delegate = delegate
    this.model = model
    this.operation = operation
    this.rootArgs = rootArgs
    this.query = query
    this.policy = policy
    this.partition = partition
    this.steps = steps
    this.args = steps.length === 0 ? rootArgs : { ...withoutSelection(rootArgs), select: fluentSelect(steps, 0) }
  }
  promise
  /** The arguments sent (with the fluent path as a nested select). */
  args
  execute() {
    if (process.env.STRATA_TRACE)
      process.stderr.write('EXECUTE ' + new Error().stack.split('\n').slice(1, 12).join(' | ') + '\n')
    return this.delegate[this.operation](this.args)
  }
  run() {
    if (this.promise === void 0) {
      const read = cachedRead(this.engine, this)
      this.promise = this.steps.length === 0 ? read : read.then((value) => followPath(value, this.steps))
    }
    return this.promise
  }
  // biome-ignore lint/suspicious/noThenProperty: a PrismaPromise is a thenable by contract
  then(onFulfilled, onRejected) {
    return this.run().then(onFulfilled, onRejected)
  }
  catch(onRejected) {
    return this.run().catch(onRejected)
  }
  finally(onFinally) {
    return this.run().finally(onFinally)
  }
  /** Batch transaction: Prisma's own promise (with Prisma's own fluent calls) joins the batch. */
  requestTransaction(transaction) {
    let promise = this.delegate[this.operation](this.rootArgs)
    for (const [field, args] of this.steps) {
      promise = promise[field](args)
    }
    return promise.requestTransaction(transaction)
  }
  get [Symbol.toStringTag]() {
    return 'PrismaPromise'
  }
  /** A fluent relation call: the same root query, one step further along the relation path. */
  fluent(field, args) {
    const target = this.engine.graph.models.get(this.model)?.relations.get(field)?.target
    const Fluent = fluentClass(this.engine, target ?? this.model)
    const steps = [...this.steps, [field, args]]
    return new Fluent(
      this.engine,
      this.delegate,
      this.model,
      this.operation,
      this.rootArgs,
      this.query,
      this.policy,
      this.partition,
      steps,
    )
  }
}
var fluentClasses = /* @__PURE__ */ new WeakMap()
function fluentClass(engine, model) {
  let byModel = fluentClasses.get(engine)
  if (!byModel) {
    byModel = /* @__PURE__ */ new Map()
    fluentClasses.set(engine, byModel)
  }
  let Fluent = byModel.get(model)
  if (!Fluent) {
    const Class = class extends LazyRead {}
    for (const field of engine.graph.models.get(model)?.relations.keys() ?? []) {
      Object.defineProperty(Class.prototype, field, {
        value(args) {
          return this.fluent(field, args)
        },
      })
    }
    Fluent = Class
    byModel.set(model, Class)
  }
  return Fluent
}

// src/transaction/transaction-override.ts
var TX_SCOPE = Symbol.for('prisma.client.transaction.scope_context')
function transactionOverride(engine) {
  return function $transaction(input, options) {
    const prismaTransaction = this.$parent.$transaction
    if (typeof input !== 'function' || this[TX_SCOPE] !== void 0) {
      return prismaTransaction.call(this, input, options)
    }
    let id
    const callback = (tx) => {
      id = tx[TX_SCOPE]?.txId
      if (id) engine.transactions.open(id)
      return input(tx)
    }
    const settle = () => (id ? engine.versions.bump(engine.transactions.close(id)) : void 0)
    return prismaTransaction.call(this, callback, options).finally(settle)
  }
}

// src/write/affected-models.ts
function isObject2(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
function each2(value, visit) {
  if (Array.isArray(value)) for (const item of value) isObject2(item) && visit(item)
  else if (isObject2(value)) visit(value)
}
var WriteEffects = class {
  constructor(graph) {
    this.graph = graph
  }
  touched = /* @__PURE__ */ new Set()
  add(model) {
    this.touched.add(model)
  }
  /** Rows of `model` are deleted: follow `onDelete` of every key pointing at it. */
  deleted(model, seen = /* @__PURE__ */ new Set()) {
    this.add(model)
    if (seen.has(model)) return
    seen.add(model)
    const keys = this.graph.foreignKeysTo
    if (!keys) {
      this.conservative(model)
      return
    }
    for (const [table, pair] of this.graph.joinTables) if (pair.includes(model)) this.joinTable(table)
    for (const fk of keys.get(model) ?? []) {
      if (fk.onDelete === 'Cascade') this.deleted(fk.child, seen)
      else if (fk.onDelete === 'SetNull' || fk.onDelete === 'SetDefault') this.updated(fk.child, fk.fields, seen)
    }
  }
  /** `fields` of rows of `model` change: follow `onUpdate` of the keys that reference those fields. */
  updated(model, fields, seen = /* @__PURE__ */ new Set()) {
    this.add(model)
    const keys = this.graph.foreignKeysTo
    if (!keys) {
      this.conservative(model)
      return
    }
    const changed = new Set(fields)
    for (const fk of keys.get(model) ?? []) {
      if (!fk.references.some((f) => changed.has(f))) continue
      if (fk.onUpdate === 'Cascade' || fk.onUpdate === 'SetNull' || fk.onUpdate === 'SetDefault') {
        const mark = `${fk.child}:${fk.fields.join(',')}`
        if (seen.has(mark)) continue
        seen.add(mark)
        this.updated(fk.child, fk.fields, seen)
      }
    }
  }
  joinTable(table) {
    for (const model of this.graph.joinTables.get(table) ?? []) this.add(model)
  }
  conservative(model) {
    for (const name2 of connectedModels(this.graph, model)) this.add(name2)
  }
  /** Create/update data on `model`: scalars it sets, and nested writes into its relations. */
  data(model, data, isUpdate) {
    each2(data, (item) => {
      const info = this.graph.models.get(model)
      const scalars = []
      for (const [key, value] of Object.entries(item)) {
        const rel = info?.relations.get(key)
        if (rel) this.nested(model, rel.target, value)
        else if (value !== void 0) scalars.push(key)
      }
      if (isUpdate && scalars.length) this.updated(model, scalars)
    })
  }
  /** A nested write from `parent` into relation target `model`: `{ create, connect, update, delete, ... }`. */
  nested(parent, model, ops) {
    this.add(parent)
    this.add(model)
    for (const table of this.graph.joinTables.keys()) {
      const pair = this.graph.joinTables.get(table)
      if (pair?.includes(parent) && pair.includes(model)) this.joinTable(table)
    }
    if (!isObject2(ops)) return
    for (const [op, value] of Object.entries(ops)) {
      switch (op) {
        case 'create':
          this.data(model, value, false)
          break
        case 'createMany':
          each2(value, (v) => this.data(model, v.data, false))
          break
        case 'connectOrCreate':
          each2(value, (v) => this.data(model, v.create, false))
          break
        case 'upsert':
          each2(value, (v) => {
            this.data(model, v.create, false)
            this.data(model, v.update, true)
          })
          break
        case 'update':
        case 'updateMany':
          each2(value, (v) => this.data(model, 'data' in v && isObject2(v.data) ? v.data : v, true))
          break
        case 'delete':
        case 'deleteMany':
          this.deleted(model)
          break
        default:
          break
      }
    }
  }
}
function affectedModels(graph, model, operation, args) {
  const effects = new WriteEffects(graph)
  effects.add(model)
  const a = args ?? {}
  switch (operation) {
    case 'create':
    case 'createMany':
    case 'createManyAndReturn':
      effects.data(model, a.data, false)
      break
    case 'update':
    case 'updateMany':
    case 'updateManyAndReturn':
      effects.data(model, a.data, true)
      break
    case 'upsert':
      effects.data(model, a.create, false)
      effects.data(model, a.update, true)
      break
    case 'delete':
    case 'deleteMany':
      effects.deleted(model)
      break
    default:
      for (const name2 of connectedModels(graph, model)) effects.add(name2)
  }
  return [...effects.touched].sort()
}

// src/write/raw-sql.ts
var name = String.raw`(?:"[^"]+"|\x60[^\x60]+\x60|\[[^\]]+\]|[\w$]+)`
var qualified = String.raw`(?:${name}\s*\.\s*)?(${name})`
var writeTarget = new RegExp(
  String.raw`\b(?:insert\s+(?:or\s+\w+\s+)?into|replace\s+into|update(?:\s+only)?|delete\s+from|truncate(?:\s+table)?(?:\s+only)?|merge\s+into|alter\s+table|drop\s+table(?:\s+if\s+exists)?)\s+${qualified}`,
  'gi',
)
var writeVerb = /\b(insert|update|delete|truncate|merge|alter|drop|create|replace|grant|vacuum|copy|call|exec|do)\b/i
function unquote(identifier) {
  return identifier.replace(/^["`[]|["`\]]$/g, '')
}
function sqlText(args) {
  if (Array.isArray(args) && typeof args[0] === 'string') return args[0]
  const strings = args?.strings
  if (Array.isArray(strings)) return strings.join('?')
  const sql = args?.sql ?? args?.text
  return typeof sql === 'string' ? sql : void 0
}
function isReadOnlySql(sql) {
  return !writeVerb.test(sql.replace(/'(?:[^']|'')*'/g, "''"))
}
function rawSqlModels(graph, sql) {
  const all = () => [...graph.models.keys()].sort()
  if (sql === void 0) return all()
  const text = sql.replace(/'(?:[^']|'')*'/g, "''").replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ')
  const byTable = /* @__PURE__ */ new Map()
  for (const model of graph.models.values())
    byTable.set(model.dbName.toLowerCase(), referencingModels(graph, model.name))
  for (const [table, pair] of graph.joinTables) byTable.set(table.toLowerCase(), pair)
  const models = /* @__PURE__ */ new Set()
  let found = 0
  for (const match of text.matchAll(writeTarget)) {
    found++
    const hit = byTable.get(unquote(match[1] ?? '').toLowerCase())
    if (!hit) return all()
    for (const m of hit) models.add(m)
  }
  if (found === 0) return all()
  return [...models].sort()
}

// src/write/write-path.ts
var writeOperations = [
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
]
async function bumpAround(engine, params, models) {
  const names = models.map((m) => engine.modelVersionName(m))
  const tx = params.__internalParams?.transaction
  if (tx?.kind === 'itx') {
    if (engine.transactions.defer(String(tx.id), names)) return params.query(params.args)
    await engine.versions.bump(names)
    setTimeout(() => void engine.versions.bump(names), 1e4).unref()
  }
  try {
    return await params.query(params.args)
  } finally {
    await engine.versions.bump(names)
  }
}
function modelWrite(engine) {
  return (params) => {
    const models = affectedModels(engine.graph, params.model, params.operation, params.args)
    return bumpAround(engine, params, models)
  }
}
function rawWrite(engine, mayRead) {
  return (params) => {
    const sql = sqlText(params.args)
    if (mayRead && sql !== void 0 && isReadOnlySql(sql)) return params.query(params.args)
    return bumpAround(engine, params, rawSqlModels(engine.graph, sql))
  }
}

// src/extension.ts
var fluentOperations = /* @__PURE__ */ new Set(['findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow'])
function jsName(model) {
  return model.charAt(0).toLowerCase() + model.slice(1)
}
function readMethod(engine, operation, facts) {
  const Read = fluentOperations.has(operation) ? void 0 : LazyRead
  return function read(input) {
    let known = facts.get(this)
    if (known === void 0) {
      const parent = this.$parent
      known = {
        model: this.$name,
        delegate: parent[jsName(this.$name)],
        inTransaction: parent[TX_SCOPE] !== void 0,
        policy: engine.policies.of(this.$name),
      }
      facts.set(this, known)
    }
    const { model, delegate, policy } = known
    let args = input
    let query
    if (input !== void 0 && 'cache' in input) {
      query = validateQueryCache(input.cache)
      const { cache: _cache, ...rest } = input
      args = rest
    }
    let partition
    if (engine.context && query !== false && policy !== false && !known.inTransaction) {
      const value = engine.context()
      if (value === void 0 || value === null) {
        engine.report(new ContextMissingError(model))
        query = false
      } else partition = String(value)
    }
    if (query === false || policy === false || known.inTransaction) {
      engine.stats.model(model).bypasses++
      return delegate[operation](args)
    }
    const Class = Read ?? fluentClass(engine, model)
    return new Class(engine, delegate, model, operation, args, query || void 0, policy, partition)
  }
}
var readOperations = [
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'count',
  'aggregate',
  'groupBy',
]
function cache(options = {}) {
  const resolved = resolveOptions(options)
  return Prisma.defineExtension((client) => {
    const engine = new Engine(resolved, client)
    const write = modelWrite(engine)
    const writes = Object.fromEntries(writeOperations.map((op) => [op, (p) => write(p)]))
    const handle = {
      async invalidate({ models = [], tags = [] }) {
        for (const model of models) {
          if (!engine.graph.models.has(model)) {
            throw new StrataOptionsError(`$cache.invalidate: unknown model \`${model}\`.`)
          }
        }
        return engine.invalidate(models, tags)
      },
      stats: () => engine.stats.snapshot({ entries: engine.local?.size ?? 0, bytes: engine.local?.bytes ?? 0 }),
      resetStats: () => engine.stats.reset(),
      precise: engine.precise,
      get ready() {
        return engine.versions.isTrusted
      },
      whenReady: (timeoutMs = 5e3) => engine.whenReady(timeoutMs),
      close: () => engine.close(),
    }
    const facts = /* @__PURE__ */ new WeakMap()
    const reads = Object.fromEntries(readOperations.map((op) => [op, readMethod(engine, op, facts)]))
    return client.$extends({
      name: 'prisma-strata',
      model: { $allModels: reads },
      query: {
        $allModels: writes,
        $executeRaw: rawWrite(engine, false),
        $executeRawUnsafe: rawWrite(engine, false),
        $queryRaw: rawWrite(engine, true),
        $queryRawUnsafe: rawWrite(engine, true),
      },
      client: {
        $cache: handle,
        // Typed as Prisma's own: the override changes when versions are bumped, not what `$transaction` is.
        ...{ $transaction: transactionOverride(engine) },
      },
    })
  })
}
export {
  BusError,
  CodecError,
  ContextMissingError,
  EntryTooLargeError,
  RedisUnavailableError,
  StrataError,
  StrataOptionsError,
  cache,
  errorCodes,
}
//# sourceMappingURL=index.js.map
