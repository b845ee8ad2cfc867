--[[
  list (read-only): one page of an index, newest first, with its records, read in one consistent step.
  Used for decisions, runs and run events. Both keys are in the pipeline's hash slot.

  KEYS[1] index  zset  member scored by time (decidedAt / createdAt / at); equal scores: greatest member first
  KEYS[2] data   hash  member -> record JSON

  ARGV[1] the highest score to include: '+inf', or '(<epoch ms>' for "strictly before"
  ARGV[2] at most this many; -1 = all

  Returns { recordJSON, ... } newest first; '' stands for a member without a record (the caller reports it).
]]
local members = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'LIMIT', 0, ARGV[2])
local out = {}
-- HMGET in chunks: unpack() of a very long list would overflow Lua's C stack.
local CHUNK = 500
for first = 1, #members, CHUNK do
  local last = math.min(first + CHUNK - 1, #members)
  local values = redis.call('HMGET', KEYS[2], unpack(members, first, last))
  for i = 1, #values do
    out[#out + 1] = values[i] or ''
  end
end
return out
