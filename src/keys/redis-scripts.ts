// The Lua that makes Redis mode exact: selection and reservation run as one script, so any number
// of gateway instances share one set of limits. Same algorithm as MemoryLimitStore.select.
// Key names are built inside the scripts from the prefix, so one Redis (not a cluster) is assumed.
// Token counts are whole numbers (HINCRBY); only cost is a float. Settling by a pipeline of plain
// increments instead of a script was measured: the same Redis CPU, over twice the gateway's.
//
// Layout, under PREFIX:
//   k:<id>:m        hash  r:<second> → requests, t:<second> → tokens (the sliding minute)
//   k:<id>:d:<day>  hash  r, t, p (prompt), c (completion), cost  (the UTC day; expires after 3 days)
//   k:<id>:cool     string reason, expiring when the cooldown ends
//   cur:<provider>  string rotation cursor
//   c:<day>         hash  <client hash>:r / :t / :cost

/** The sliding minute over a hash of r:<second> / t:<second> fields (also used by the client-key budgets). */
export const WINDOW_FUNCTION = `
local function window(mkey, second)
  local flat = redis.call('HGETALL', mkey)
  local req, tok, oldestR, oldestT = 0, 0, -1, -1
  local stale = {}
  for j = 1, #flat, 2 do
    local field = flat[j]
    local value = tonumber(flat[j + 1])
    local s = tonumber(string.sub(field, 3))
    if s <= second - 60 then
      stale[#stale + 1] = field
    elseif string.sub(field, 1, 1) == 'r' then
      req = req + value
      if value > 0 and (oldestR == -1 or s < oldestR) then oldestR = s end
    else
      tok = tok + value
      if value > 0 and (oldestT == -1 or s < oldestT) then oldestT = s end
    end
  end
  if #stale > 0 then redis.call('HDEL', mkey, unpack(stale)) end
  return req, tok, oldestR, oldestT
end
`;

/**
 * ARGV: prefix, provider, now (ms), estimate, gap, n, then per key: id, excluded (0/1),
 * max_request_min, max_request_day, max_token_min, max_token_day (0 = no limit).
 * Returns {chosen index (1-based, 0 = none), second, day, freeInMs (-1 = unknown), chosen only
 * because every other key is out and this one was refused (1/0)}.
 */
export const SELECT_SCRIPT = `${WINDOW_FUNCTION}
local prefix = ARGV[1]
local provider = ARGV[2]
local now = tonumber(ARGV[3])
local estimate = tonumber(ARGV[4])
local gap = tonumber(ARGV[5])
local n = tonumber(ARGV[6])
local second = math.floor(now / 1000)
local day = math.floor(now / 86400000)
local toMidnight = (day + 1) * 86400000 - now
local freeIn = -1
local refused = 0
local least = -1
local percents = {}
local function noteWait(ms)
  if ms < 1 then ms = 1 end
  if freeIn == -1 or ms < freeIn then freeIn = ms end
end
for i = 1, n do
  local base = 6 + (i - 1) * 6
  local id = ARGV[base + 1]
  percents[i] = -1
  if ARGV[base + 2] == '0' then
    local maxReqMin = tonumber(ARGV[base + 3])
    local maxReqDay = tonumber(ARGV[base + 4])
    local maxTokMin = tonumber(ARGV[base + 5])
    local maxTokDay = tonumber(ARGV[base + 6])
    local kp = prefix .. 'k:' .. id
    local coolTtl = redis.call('PTTL', kp .. ':cool')
    if coolTtl > 0 then
      if refused == 0 and redis.call('GET', kp .. ':cool') == 'refused' then refused = i end
      noteWait(coolTtl)
    else
      local d = redis.call('HMGET', kp .. ':d:' .. day, 'r', 't')
      local reqDay = tonumber(d[1]) or 0
      local tokDay = tonumber(d[2]) or 0
      local wait = 0
      if maxReqDay > 0 and reqDay + 1 > maxReqDay then wait = math.max(wait, toMidnight) end
      if maxTokDay > 0 and tokDay > 0 and tokDay + estimate > maxTokDay then wait = math.max(wait, toMidnight) end
      if maxReqMin > 0 or maxTokMin > 0 then
        local req, tok, oldestR, oldestT = window(kp .. ':m', second)
        if maxReqMin > 0 and req + 1 > maxReqMin then wait = math.max(wait, (oldestR + 60) * 1000 - now) end
        if maxTokMin > 0 and tok > 0 and tok + estimate > maxTokMin then
          wait = math.max(wait, (oldestT + 60) * 1000 - now)
        end
      end
      if wait > 0 then
        noteWait(wait)
      else
        local pct = 0
        if maxReqDay > 0 then pct = reqDay / maxReqDay * 100
        elseif maxTokDay > 0 then pct = tokDay / maxTokDay * 100 end
        percents[i] = pct
        if least == -1 or pct < least then least = pct end
      end
    end
  end
end
local chosen = 0
local wasRefused = 0
local curKey = prefix .. 'cur:' .. provider
if least ~= -1 then
  local start = tonumber(redis.call('GET', curKey)) or 0
  for j = 0, n - 1 do
    local i = ((start + j) % n) + 1
    if percents[i] >= 0 and percents[i] <= least + gap then
      chosen = i
      break
    end
  end
  redis.call('SET', curKey, chosen % n)
elseif refused > 0 then
  chosen = refused
  wasRefused = 1
end
if chosen == 0 then return {0, second, day, freeIn, 0} end
local kp = prefix .. 'k:' .. ARGV[6 + (chosen - 1) * 6 + 1]
redis.call('HINCRBY', kp .. ':m', 'r:' .. second, 1)
redis.call('HINCRBY', kp .. ':m', 't:' .. second, estimate)
redis.call('PEXPIRE', kp .. ':m', 120000)
local dk = kp .. ':d:' .. day
redis.call('HINCRBY', dk, 'r', 1)
redis.call('HINCRBY', dk, 't', estimate)
redis.call('EXPIRE', dk, 259200)
return {chosen, second, day, freeIn, wasRefused}
`;

/**
 * ARGV: prefix, key id, second, day, token delta, prompt, completion, cost, client hash ('' none),
 * settled (1 when the answer's usage is known, 0 for a failed attempt), total tokens.
 */
export const SETTLE_SCRIPT = `
local prefix = ARGV[1]
local kp = prefix .. 'k:' .. ARGV[2]
local second = ARGV[3]
local day = ARGV[4]
local delta = tonumber(ARGV[5])
local mkey = kp .. ':m'
if delta ~= 0 and redis.call('HEXISTS', mkey, 't:' .. second) == 1 then
  local left = redis.call('HINCRBY', mkey, 't:' .. second, delta)
  if left < 0 then redis.call('HSET', mkey, 't:' .. second, 0) end
end
local dk = kp .. ':d:' .. day
if redis.call('EXISTS', dk) == 1 then
  if delta ~= 0 then
    local left = redis.call('HINCRBY', dk, 't', delta)
    if left < 0 then redis.call('HSET', dk, 't', 0) end
  end
  if ARGV[10] == '1' then
    redis.call('HINCRBY', dk, 'p', ARGV[6])
    redis.call('HINCRBY', dk, 'c', ARGV[7])
    redis.call('HINCRBYFLOAT', dk, 'cost', ARGV[8])
  end
end
if ARGV[9] ~= '' and ARGV[10] == '1' then
  local ck = prefix .. 'c:' .. day
  redis.call('HINCRBY', ck, ARGV[9] .. ':r', 1)
  redis.call('HINCRBY', ck, ARGV[9] .. ':t', ARGV[11])
  redis.call('HINCRBYFLOAT', ck, ARGV[9] .. ':cost', ARGV[8])
  redis.call('EXPIRE', ck, 259200)
end
return 1
`;
