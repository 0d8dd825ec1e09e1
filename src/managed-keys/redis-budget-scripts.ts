// The Lua that makes client-key budgets exact across instances: a reservation is checked against
// every limit and budget and counted in one script, and a settlement or release is one more, so
// any number of gateway instances sharing one Redis (not a cluster: key names are built inside
// the scripts) never admit more than the limits allow. Same rule as MemoryBudgetStore.
// Money is whole nano-dollars (HINCRBY, exact); tokens are whole numbers.
//
// Layout, under PREFIX + 'budget:' + <key id> + ':':
//   m           hash  r:<second> → requests, t:<second> → tokens (the sliding minute; expires after 2 min)
//   d:<day>     hash  r, t, cost (the UTC day, reservations in flight included; expires after 3 days)
//   mo:<month>  hash  cost (the UTC month; expires 3 days after it ends)
//   total       hash  cost (lifetime; never expires)
//   open        zset  reservations in flight, scored by when they were made; member
//                     <id>:<second>:<day>:<month>:<tokens>:<cost nanos>
import { WINDOW_FUNCTION } from '../keys/redis-scripts.js';

/**
 * ARGV: base, now (ms), day, month, month key TTL (s), member, tokens, cost (nanos), forget open
 * reservations made before (ms), rpm, rpd, tpm, tpd, budget day, budget month, budget total
 * (counts and nanos; -1 = none).
 * Returns {0, day nanos, month nanos, total nanos} when admitted (counted after it),
 * {1, limit (1 rpm, 2 rpd, 3 tpm, 4 tpd), retry after ms, 1 when the request alone exceeds it},
 * {2, budget (1 day, 2 month, 3 total), counted nanos} when refused.
 */
export const RESERVE_SCRIPT = `${WINDOW_FUNCTION}
local base = ARGV[1]
local now = tonumber(ARGV[2])
local day = ARGV[3]
local month = ARGV[4]
local monthTtl = tonumber(ARGV[5])
local member = ARGV[6]
local tokens = tonumber(ARGV[7])
local cost = tonumber(ARGV[8])
local forgetBefore = tonumber(ARGV[9])
local rpm = tonumber(ARGV[10])
local rpd = tonumber(ARGV[11])
local tpm = tonumber(ARGV[12])
local tpd = tonumber(ARGV[13])
local budgetDay = tonumber(ARGV[14])
local budgetMonth = tonumber(ARGV[15])
local budgetTotal = tonumber(ARGV[16])
local second = math.floor(now / 1000)
local openKey = base .. 'open'
redis.call('ZREMRANGEBYSCORE', openKey, '-inf', '(' .. ARGV[9])
local dk = base .. 'd:' .. day
local mk = base .. 'mo:' .. month
local tk = base .. 'total'
local d = redis.call('HMGET', dk, 'r', 't', 'cost')
local reqDay = tonumber(d[1]) or 0
local tokDay = tonumber(d[2]) or 0
local costDay = tonumber(d[3]) or 0
local costMonth = tonumber(redis.call('HGET', mk, 'cost')) or 0
local costTotal = tonumber(redis.call('HGET', tk, 'cost')) or 0
if budgetTotal >= 0 and costTotal + cost > budgetTotal then return {2, 3, costTotal} end
if budgetMonth >= 0 and costMonth + cost > budgetMonth then return {2, 2, costMonth} end
if budgetDay >= 0 and costDay + cost > budgetDay then return {2, 1, costDay} end
local limit, wait, alone = 0, 0, 0
local function note(which, ms, a)
  if limit == 0 or ms > wait then
    limit = which
    wait = ms
    alone = a
  end
end
local mkey = base .. 'm'
if rpm >= 0 or tpm >= 0 then
  local req, tok, oldestR, oldestT = window(mkey, second)
  if rpm >= 0 and req + 1 > rpm then
    if rpm < 1 then note(1, 60000, 1) else note(1, (oldestR + 60) * 1000 - now, 0) end
  end
  if tpm >= 0 and tok + tokens > tpm then
    if tokens > tpm then note(3, 60000, 1) else note(3, (oldestT + 60) * 1000 - now, 0) end
  end
end
local toMidnight = (tonumber(day) + 1) * 86400000 - now
if rpd >= 0 and reqDay + 1 > rpd then note(2, toMidnight, rpd < 1 and 1 or 0) end
if tpd >= 0 and tokDay + tokens > tpd then note(4, toMidnight, tokens > tpd and 1 or 0) end
if limit ~= 0 then return {1, limit, math.max(1, wait), alone} end
redis.call('HINCRBY', mkey, 'r:' .. second, 1)
redis.call('HINCRBY', mkey, 't:' .. second, ARGV[7])
redis.call('PEXPIRE', mkey, 120000)
redis.call('HINCRBY', dk, 'r', 1)
redis.call('HINCRBY', dk, 't', ARGV[7])
costDay = redis.call('HINCRBY', dk, 'cost', ARGV[8])
redis.call('EXPIRE', dk, 259200)
costMonth = redis.call('HINCRBY', mk, 'cost', ARGV[8])
redis.call('EXPIRE', mk, monthTtl)
costTotal = redis.call('HINCRBY', tk, 'cost', ARGV[8])
redis.call('ZADD', openKey, now, member)
redis.call('PEXPIRE', openKey, now - forgetBefore + 60000)
return {0, costDay, costMonth, costTotal}
`;

/**
 * Settles or releases one reservation: the member leaves the open set (a second call finds it gone
 * and changes nothing), and its tokens and cost change by the deltas in the periods it counted in.
 * Settle passes real - estimate; release passes -estimate.
 * ARGV: base, member, second, day, month, token delta, cost delta (nanos).
 * Returns 1 when the reservation was open, 0 when it was already settled, released or forgotten.
 */
export const FINISH_SCRIPT = `
local base = ARGV[1]
if redis.call('ZREM', base .. 'open', ARGV[2]) == 0 then return 0 end
local tokenDelta = tonumber(ARGV[6])
local costDelta = tonumber(ARGV[7])
local function add(key, field, delta)
  if delta == 0 then return end
  local left = redis.call('HINCRBY', key, field, delta)
  if left < 0 then redis.call('HSET', key, field, 0) end
end
local mkey = base .. 'm'
local tfield = 't:' .. ARGV[3]
if redis.call('HEXISTS', mkey, tfield) == 1 then add(mkey, tfield, tokenDelta) end
local dk = base .. 'd:' .. ARGV[4]
if redis.call('EXISTS', dk) == 1 then
  add(dk, 't', tokenDelta)
  add(dk, 'cost', costDelta)
end
local mk = base .. 'mo:' .. ARGV[5]
if redis.call('EXISTS', mk) == 1 then add(mk, 'cost', costDelta) end
add(base .. 'total', 'cost', costDelta)
return 1
`;
