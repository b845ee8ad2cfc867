--[[
  append-record: appends one record to a pipeline's ordered log (run events, decisions), included by the scripts
  that write one with `--- @include "append-record"` (src/store/redis/scripts.ts splices it in when it loads them).

  appendRecord(seqKey, indexKey, dataKey, score, json)
    seqKey    string  per-pipeline counter (orders records within one millisecond)
    indexKey  zset    record seq scored by `score`
    dataKey   hash    record seq -> JSON
    score     epoch ms (the record's time)
    json      the record
  Returns the record's seq (16 digits).
]]
local function appendRecord(seqKey, indexKey, dataKey, score, json)
  local seq = string.format('%016d', redis.call('INCR', seqKey))
  redis.call('ZADD', indexKey, score, seq)
  redis.call('HSET', dataKey, seq, json)
  return seq
end
