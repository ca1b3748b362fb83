/**
 * Lua scripts on the version keys. Versions are counters (`INCR`), never clocks; a missing or unreadable version
 * key comes back at Redis `TIME` in microseconds, a value larger than any it held before, so entries filled under
 * an old value can never match again after an eviction, a FLUSHALL or a failover.
 * Versions belong to one Redis timeline, named by the server's run id: a server restarted (even from an older
 * dump) or a promoted replica has another, and every version the earlier run issued is discarded on first use.
 * Every key of one call shares the `{prefix}` hash tag: one slot in a Redis Cluster.
 */

/** Below this a version is not one of ours (a counter seeded from TIME is ~1.7e15). */
const SEED_FLOOR = '1000000000000'
/** µs past Redis TIME beyond which a version is not ours: versions are TIME seeds plus one per bump (one day). */
const AHEAD = '86400000000'

/** Helpers every script below starts with. */
const common = `
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
-- Changes with every start of the server, even from a dump, and differs on a promoted replica.
local function runId()
  local info = redis.call('INFO', 'server')
  local at = string.find(info, 'run_id:', 1, true)
  return string.sub(info, at + 7, at + 46)
end
local function text(v)
  return string.format('%.0f', v)
end
-- A version of ours (digits, within [low, high]), or nil: Infinity, NaN, 1e300 or 2^53 + 1 are never adopted.
local function valid(raw, low, high)
  if type(raw) ~= 'string' or not string.match(raw, '^%d+$') then return nil end
  local v = tonumber(raw)
  if v < low or v > high then return nil end
  return v
end
-- Never shortens a TTL: instances with longer-lived entries may share these keys.
local function outlive(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
-- The lowest version valid in this server run: TIME when the run began using the key, so every version an
-- earlier run issued (kept in a dump, or replicated before a failover) is below it.
local function floor(key, ttl, time)
  local run = runId()
  local raw = redis.pcall('GET', key)
  if type(raw) == 'string' and string.sub(raw, 1, 41) == run .. ' ' then
    local f = valid(string.sub(raw, 42), ${SEED_FLOOR}, time + ${AHEAD})
    if f then
      outlive(key, ttl)
      return f
    end
  end
  redis.call('SET', key, run .. ' ' .. text(time), 'PX', ttl)
  return time
end
`

/** Bumps one version key (in `bumped`, published by the caller); shared by the scripts that bump. */
const bumping = `
local bumped = {}
local function bump(key, name, seed, ttl)
  local v = redis.pcall('INCR', key)
  -- Never below TIME (a failover that lost an INCR cannot make a version be issued twice), never past it by more
  -- than bumps can explain (a value that is not ours would pin whoever adopted it).
  if type(v) ~= 'number' or v < seed or v > seed + ${AHEAD} then
    v = seed
    redis.call('SET', key, text(v), 'PX', ttl)
  else
    outlive(key, ttl)
  end
  bumped[#bumped + 1] = name
  bumped[#bumped + 1] = text(v)
  return v
end
-- A registry of predicate schemes that is missing was lost (or never made): every predicate entry of its model
-- goes, through the registry's version, and readers register their schemes again.
-- It lives as long as the version keys, from its last use: one that expires is lost like one evicted.
local function registry(set, gkey, model, seed, ttl)
  if redis.call('EXISTS', set) == 1 then
    outlive(set, ttl)
    return true
  end
  redis.call('SADD', set, '#')
  redis.call('PEXPIRE', set, ttl)
  bump(gkey, 'g:' .. model, seed, ttl)
  return false
end
`

/**
 * KEYS[1]: the timeline key, KEYS[2..n+1]: version keys, then two keys per model whose schemes a read registers:
 * its scheme registry and its registry version. ARGV[1]: ms a version key outlives its last use, ARGV[2]: n,
 * ARGV[3]: bus channel, ARGV[4]: origin id, then two per model: the model and its schemes (space-separated).
 * Registers the schemes first (a registry found missing is recreated and its version bumped and published), then
 * returns the n versions, seeding at TIME those missing, not ours, or from an earlier server run: a read's
 * registration and its snapshot are one step (design invariant 11, docs/design.md).
 * Any KEYS after the registry pairs are entry keys, read along: a read that does not know its versions needs both
 * before its SQL, so a miss costs Redis one command. Their frames (or false) follow the versions in the reply.
 * Entry keys only where every key is on one node (not a Redis Cluster: entry keys spread over its slots).
 */
export const readVersions = `${common}${bumping}
local time = now()
local ttl = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local low = floor(KEYS[1], ttl, time)
local seed = math.max(time, low)
local k = n + 2
for a = 5, #ARGV, 2 do
  registry(KEYS[k], KEYS[k + 1], ARGV[a], seed, ttl)
  for scheme in string.gmatch(ARGV[a + 1], '[^ ]+') do redis.call('SADD', KEYS[k], scheme) end
  k = k + 2
end
if #bumped > 0 then
  local message = { ARGV[4] }
  for i = 1, #bumped do message[#message + 1] = bumped[i] end
  redis.call('PUBLISH', ARGV[3], table.concat(message, ' '))
end
local out = {}
for i = 2, n + 1 do
  local v = valid(redis.pcall('GET', KEYS[i]), low, seed + ${AHEAD})
  if v then
    outlive(KEYS[i], ttl)
  else
    v = seed
    redis.call('SET', KEYS[i], text(v), 'PX', ttl)
  end
  out[i - 1] = v
end
for i = k, #KEYS do
  -- Anything but a string under an entry key (another type: WRONGTYPE) is no entry, not a failed call.
  local frame = redis.pcall('GET', KEYS[i])
  if type(frame) ~= 'string' then frame = false end
  out[#out + 1] = frame
end
return out`

/**
 * KEYS[1]: the timeline key. ARGV[1]: ms it outlives its last use. Begins a new timeline in this server run: every
 * version issued before is below its floor, so no entry filled under one can match again. For a server that went
 * back in time keeping its run id (a failback to an old master that missed writes), which a process noticed.
 */
export const newTimeline = `${common}
local time = now()
redis.call('SET', KEYS[1], runId() .. ' ' .. text(time), 'PX', tonumber(ARGV[1]))
return 1`

/**
 * KEYS[1]: the timeline key, KEYS[2..n+1]: version keys, then two keys per row request: the model's scheme
 * registry and its registry version. ARGV[1]: bus channel, ARGV[2]: origin id, ARGV[3]: ms a version key outlives
 * its last use, ARGV[4]: n, ARGV[5]: the version key prefix, ARGV[6..n+5]: the version names, then five per row
 * request: model, the fields the write changed without knowing their old values, the row's fields and the hashes
 * of their values (comma-separated), and '1' when the row stayed in the predicates of its unchanged fields ('l'
 * when it only left them). Sets each version to max(its value + 1, TIME in µs); for each row request, bumps every
 * registered scheme's predicate of that row, its membership version unless the row stayed and its arrivals version
 * unless it stayed or only left (or the scheme's own version when the write changed one of its fields). Read
 * together with the registry, in one script: a scheme registered before this runs is bumped, and a read that
 * registers one after runs its query after the write. Publishes "origin name version ..." and
 * returns the n new values, then name, version pairs for the rest, then '#' and the registry version of each row
 * request's model as it was read (a registry lost and recreated by another instance moved it: the writer must
 * learn that before its write returns, or it would take its schemes for registered).
 */
export const bumpVersions = `${common}${bumping}
local time = now()
local ttl = tonumber(ARGV[3])
local low = floor(KEYS[1], ttl, time)
local seed = math.max(time, low)
local n = tonumber(ARGV[4])
local out = {}
for i = 1, n do out[i] = bump(KEYS[i + 1], ARGV[i + 5], seed, ttl) end
local plain = #bumped
local done = {}
local registries = {}
local k = n + 2
for a = n + 6, #ARGV, 5 do
  local model, changed, fields, hashes, kept = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  if registry(KEYS[k], KEYS[k + 1], model, seed, ttl) then
    -- The registry version this bump was computed under: the writer learns a registry another instance recreated.
    local g = valid(redis.pcall('GET', KEYS[k + 1]), low, seed + ${AHEAD})
    if g then
      outlive(KEYS[k + 1], ttl)
      registries[#registries + 1] = 'g:' .. model
      registries[#registries + 1] = text(g)
    else
      bump(KEYS[k + 1], 'g:' .. model, seed, ttl)
    end
    local isChanged, hashOf, order = {}, {}, {}
    for f in string.gmatch(changed, '[^,]+') do isChanged[f] = true end
    for f in string.gmatch(fields, '[^,]+') do order[#order + 1] = f end
    local i = 1
    for h in string.gmatch(hashes, '[^,]+') do
      hashOf[order[i]] = h
      i = i + 1
    end
    for _, scheme in ipairs(redis.call('SMEMBERS', KEYS[k])) do
      if scheme ~= '#' then
        local name
        local parts = {}
        for f in string.gmatch(scheme, '[^,]+') do
          if isChanged[f] or not hashOf[f] then
            name = 's:' .. model .. ':' .. scheme
            break
          end
          parts[#parts + 1] = hashOf[f]
        end
        local names = { name }
        if not name then
          local digest = redis.sha1hex(scheme .. '|' .. table.concat(parts, ','))
          names = { 'p:' .. model .. ':' .. digest }
          if kept ~= '1' then names[#names + 1] = 'c:' .. model .. ':' .. digest end
          if kept == '' then names[#names + 1] = 'a:' .. model .. ':' .. digest end
        end
        for _, each in ipairs(names) do
          if not done[each] then
            done[each] = true
            bump(ARGV[5] .. each, each, seed, ttl)
          end
        end
      end
    end
  end
  k = k + 2
end
local message = { ARGV[2] }
for i = 1, #bumped do message[#message + 1] = bumped[i] end
redis.call('PUBLISH', ARGV[1], table.concat(message, ' '))
for i = plain + 1, #bumped do out[#out + 1] = bumped[i] end
if #registries > 0 then
  out[#out + 1] = '#'
  for i = 1, #registries do out[#out + 1] = registries[i] end
end
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

/** Extends a lease (KEYS[1]) by ARGV[2] ms if it still holds this holder's token (ARGV[1]); 1 if it did. */
export const renewLease = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`

/**
 * Rows of write-through models live in one hash per row: field `v` is the row's version, `s` the run id of the
 * server that set it (rows spread over a Cluster: each node's run is checked on its own), the other fields its
 * entries (one per partition). Seeding and bumping follow the version keys: never below Redis TIME in µs.
 * KEYS[1]: the row hash. ARGV[1]: the entry field, ARGV[2]: ms the hash lives if this call creates it.
 * Returns { version, entry frame or false }.
 */
export const readRow = `${common}
local time = now()
local run = runId()
local held = redis.call('HMGET', KEYS[1], 'v', 's')
local v = held[2] == run and valid(held[1], ${SEED_FLOOR}, time + ${AHEAD})
if not v then
  -- Left by another server run, or a version that is not ours: its entries may predate writes since.
  v = time
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'v', text(v), 's', run)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return { text(v), redis.call('HGET', KEYS[1], ARGV[1]) }`

/**
 * KEYS[1]: the row hash. ARGV[1]: bus channel, ARGV[2]: origin id, ARGV[3]: the row's version name, ARGV[4]: ms
 * the hash lives. Drops every entry of the row, sets its version to max(version + 1, TIME in µs), publishes it
 * like a version bump and returns it.
 */
export const bumpRow = `${common}
local time = now()
local run = runId()
local held = redis.call('HMGET', KEYS[1], 'v', 's')
local v = (held[2] == run and valid(held[1], ${SEED_FLOOR}, time + ${AHEAD}) or 0) + 1
if v < time then v = time end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', text(v), 's', run)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. text(v))
return text(v)`

/**
 * KEYS[1]: the row hash. ARGV[1]: the version the row was read under, ARGV[2]: the entry field, ARGV[3]: the
 * frame, ARGV[4]: ms it lives. Stores the entry only while the row is still at that version: a fill or a put that
 * a later write overtook is refused, so an older row never replaces a newer one. 1 when stored. No run check:
 * an entry put into a hash left by another server run is dropped by `readRow` before anyone reads it.
 */
export const putRow = `
if tonumber(redis.call('HGET', KEYS[1], 'v')) ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1`
