--[[
  save-evaluation: records one evaluation atomically: each trait's latest result, the readiness, and the
  decision appended to the pipeline's decision list. Every key is in the pipeline's hash slot.
  The key count is variable ('-n'): 5 fixed keys, then two keys per trait result; the caller passes numKeys.
  A result with a ttl also goes to its tombstone key, without expiry: when Redis drops the live key at its TTL
  (by the server's own clock), the tombstone still says what the result was and when it expired, so a reader
  reports "expired at …" rather than "no result yet".

  KEYS[1]       traits         set     names of the traits with a stored result
  KEYS[2]       readiness      string  Readiness JSON
  KEYS[3]       seq            string  per-pipeline counter (orders decisions within one millisecond)
  KEYS[4]       decisions      zset    decision seq scored by decidedAt
  KEYS[5]       decision-data  hash    decision seq -> DecisionRecord JSON
  KEYS[5 + 2i - 1]  the i-th trait result's key (live; SET … PX ttl)
  KEYS[5 + 2i]      the i-th trait result's tombstone key (the last result that had a ttl; no expiry)

  ARGV[1]       Readiness JSON
  ARGV[2]       decidedAt, epoch ms
  ARGV[3]       DecisionRecord JSON
  ARGV[4]       the change channel (publish-change)
  ARGV[5]       the change payload ({"kind":"evaluation","pipeline":…})
  ARGV[6 + 3(i-1)]  the i-th trait's name
  ARGV[7 + 3(i-1)]  the i-th TraitResult JSON
  ARGV[8 + 3(i-1)]  its time to live in ms: 0 = never expires (no tombstone); > 0 = SET … PX, and the
                    tombstone; < 0 = already expired, so only the tombstone is written (it reads as STALE)

  Returns (codes: src/store/redis/codes.ts)
    { 1 }   OK (the change published)
  Raises an error reply when KEYS and ARGV do not pair up (a caller bug; nothing is written).
]]
--- @include "append-record"
--- @include "publish-change"

local n = (#KEYS - 5) / 2
if n < 0 or n ~= math.floor(n) or #ARGV ~= 5 + 3 * n then
  return redis.error_reply('ERR interlock save-evaluation: ' .. #KEYS .. ' keys do not match ' .. #ARGV .. ' args')
end

for i = 1, n do
  local a = 5 + 3 * (i - 1)
  local ttl = tonumber(ARGV[a + 3])
  if ttl == nil then return redis.error_reply('ERR interlock save-evaluation: bad ttl ' .. ARGV[a + 3]) end
end

for i = 1, n do
  local a = 5 + 3 * (i - 1)
  local key = KEYS[5 + 2 * i - 1]
  local tomb = KEYS[5 + 2 * i]
  local ttl = tonumber(ARGV[a + 3])
  redis.call('SADD', KEYS[1], ARGV[a + 1])
  if ttl > 0 then
    redis.call('SET', key, ARGV[a + 2], 'PX', ttl)
    redis.call('SET', tomb, ARGV[a + 2])
  elseif ttl == 0 then
    redis.call('SET', key, ARGV[a + 2])
    redis.call('DEL', tomb)
  else
    redis.call('DEL', key)
    redis.call('SET', tomb, ARGV[a + 2])
  end
end

redis.call('SET', KEYS[2], ARGV[1])
appendRecord(KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3])
publishChange(ARGV[4], ARGV[5])
return { 1 }
