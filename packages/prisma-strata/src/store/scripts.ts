/**
 * Lua scripts on the version keys. Versions are counters (`INCR`), never clocks; a missing or unreadable version
 * key comes back at Redis `TIME` in microseconds, a value larger than any it held before, so entries filled under
 * an old value can never match again after an eviction, a FLUSHALL or a failover (DESIGN invariant 2).
 * Every key of one call shares the `{prefix}` hash tag: one slot in a Redis Cluster.
 */

/** Below this a version is not one of ours (a counter seeded from TIME is ~1.7e15). */
const SEED_FLOOR = '1000000000000'

/** KEYS: version keys. Returns their values, seeding the missing ones. */
export const readVersions = `
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

/**
 * KEYS: version keys. ARGV[1]: bus channel, ARGV[2]: origin id, ARGV[3..]: the version names, in KEYS order.
 * Sets each to max(its value + 1, TIME in µs), publishes "origin name version ..." and returns the new values.
 */
export const bumpVersions = `
local t = redis.call('TIME')
local seed = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
local message = { ARGV[2] }
for i, key in ipairs(KEYS) do
  local v = redis.pcall('INCR', key)
  -- Never below TIME: a failover that lost an INCR cannot make a version be issued twice.
  if type(v) ~= 'number' or v < seed then
    v = seed
    redis.call('SET', key, string.format('%.0f', v))
  end
  out[i] = v
  message[#message + 1] = ARGV[i + 2]
  message[#message + 1] = string.format('%.0f', v)
end
redis.call('PUBLISH', ARGV[1], table.concat(message, ' '))
return out`

/**
 * KEYS[1]: a lease, KEYS[2..]: version keys. ARGV[1]: the holder's token, ARGV[2..]: the versions its read was
 * made under. 1 when the lease is still the holder's and no write has bumped a version since: the fill may be
 * stored. A fill a write has overtaken is refused (the lease idea of Facebook's memcache, on versions).
 */
export const leaseAllowsFill = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #KEYS do
  if tonumber(redis.call('GET', KEYS[i])) ~= tonumber(ARGV[i]) then return 0 end
end
return 1`

/** KEYS[1]: a lease. ARGV[1]: a token. Deletes the lease only if that token still holds it. */
export const releaseLease = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

/**
 * Rows of write-through models live in one hash per row: field `v` is the row's version, the other fields its
 * entries (one per partition). Seeding and bumping follow the version keys: never below Redis TIME in µs.
 * KEYS[1]: the row hash. ARGV[1]: the entry field, ARGV[2]: ms the hash lives if this call creates it.
 * Returns { version, entry frame or false }.
 */
export const readRow = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v'))
if not v then
  local t = redis.call('TIME')
  v = tonumber(t[1]) * 1000000 + tonumber(t[2])
  redis.call('HSET', KEYS[1], 'v', string.format('%.0f', v))
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return { string.format('%.0f', v), redis.call('HGET', KEYS[1], ARGV[1]) }`

/**
 * KEYS[1]: the row hash. ARGV[1]: bus channel, ARGV[2]: origin id, ARGV[3]: the row's version name, ARGV[4]: ms
 * the hash lives. Drops every entry of the row, sets its version to max(version + 1, TIME in µs), publishes it
 * like a version bump and returns it.
 */
export const bumpRow = `
local t = redis.call('TIME')
local seed = tonumber(t[1]) * 1000000 + tonumber(t[2])
local v = (tonumber(redis.call('HGET', KEYS[1], 'v')) or 0) + 1
if v < seed then v = seed end
local text = string.format('%.0f', v)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', text)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. text)
return text`

/**
 * KEYS[1]: the row hash. ARGV[1]: the version the row was read under, ARGV[2]: the entry field, ARGV[3]: the
 * frame, ARGV[4]: ms it lives. Stores the entry only while the row is still at that version: a fill or a put that
 * a later write overtook is refused, so an older row never replaces a newer one. 1 when stored.
 */
export const putRow = `
if tonumber(redis.call('HGET', KEYS[1], 'v')) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1`
