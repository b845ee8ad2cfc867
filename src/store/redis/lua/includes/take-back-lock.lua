--[[
  take-back-lock: restores a pipeline's lost lock key (evicted or deleted) for the run that still needs it, included
  by create-run and lock-for-delete with `--- @include "take-back-lock"` (src/store/redis/scripts.ts splices it in).
  Losing the key must never let a second run start beside a running job, nor a delete remove its pipeline.

  takeBackLock(runDataKey, runsKey, activeKey, nonTerminal)
    runDataKey  hash    runId -> RunState JSON
    runsKey     zset    runId scored by createdAt
    activeKey   string  runId holding the pipeline's lock
    nonTerminal         the non-terminal statuses as ',A,B,…,'
  Returns the newest run's JSON when it is unfinished, or has ended but still holds the lock for its command
  (lockHeldUntil still ahead by the server's clock: a released or expired hold is not taken back); the lock key then
  names it again. Otherwise nil, and nothing is written.
]]
local function takeBackLock(runDataKey, runsKey, activeKey, nonTerminal)
  local newest = redis.call('ZREVRANGE', runsKey, 0, 0)[1]
  if not newest then return nil end
  local raw = redis.call('HGET', runDataKey, newest)
  local ok, prev = pcall(cjson.decode, raw or '')
  if not (ok and type(prev) == 'table' and type(prev.status) == 'string') then return nil end
  local t = redis.call('TIME')
  local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local live = string.find(nonTerminal, ',' .. prev.status .. ',', 1, true)
  local held = type(prev.lockHeldUntil) == 'number' and prev.lockHeldUntil > nowMs
  if not (live or held) then return nil end
  redis.call('SET', activeKey, newest)
  return raw
end
