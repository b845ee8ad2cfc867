--[[
  prune-runs: retention for one pipeline's slot. Deletes the given old decisions, and the given ended runs with
  their run keys and transition events. The caller chose them by the rules in src/store/retention.ts; this script
  re-checks what could have changed since it read them (a run that holds the lock, or is not ended, is kept), so a
  stale choice never deletes a live run.

  KEYS[1] decisions      zset  seq scored by decidedAt
  KEYS[2] decision-data  hash  seq -> DecisionRecord JSON
  KEYS[3] runs           zset  runId scored by createdAt
  KEYS[4] run-data       hash  runId -> RunState JSON
  KEYS[5] run-keys       hash  runKey -> runId
  KEYS[6] active         string runId holding the lock
  KEYS[7] events         zset  seq scored by at
  KEYS[8] event-data     hash  seq -> RunEvent JSON

  ARGV[1] number of decision seqs n, then ARGV[2..n+1] the seqs
  ARGV[n+2..] run ids
  Terminal statuses are COMPLETED, FAILED, CANCELLED, TIMED_OUT, BLOCKED (core/run-status.ts).

  Returns { decisionsDeleted, runsDeleted, eventsDeleted, runId1, runId2, ... } (the run ids deleted, so the caller
  can drop them from the run index, which lives in another slot)
]]
local TERMINAL = { COMPLETED = true, FAILED = true, CANCELLED = true, TIMED_OUT = true, BLOCKED = true }
local n = tonumber(ARGV[1])
local decisions = 0
for i = 2, n + 1 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then decisions = decisions + 1 end
  redis.call('HDEL', KEYS[2], ARGV[i])
end
local eventsKey, eventData = KEYS[7], KEYS[8]
local active = redis.call('GET', KEYS[6])
local runs, events = 0, 0
local deleted = {}
for i = n + 2, #ARGV do
  local id = ARGV[i]
  local raw = redis.call('HGET', KEYS[4], id)
  if raw and id ~= active then
    local ok, run = pcall(cjson.decode, raw)
    if ok and type(run) == 'table' and TERMINAL[run.status] then
      -- Its events lie between its creation and its last update.
      local from = tonumber(run.createdAt) or 0
      local to = tonumber(run.updatedAt) or from
      local seqs = redis.call('ZRANGEBYSCORE', eventsKey, from, to)
      if #seqs > 0 then
        local data = redis.call('HMGET', eventData, unpack(seqs))
        for j = 1, #seqs do
          local okE, e = pcall(cjson.decode, data[j] or '')
          if okE and type(e) == 'table' and e.runId == id then
            redis.call('ZREM', eventsKey, seqs[j])
            redis.call('HDEL', eventData, seqs[j])
            events = events + 1
          end
        end
      end
      if type(run.runKey) == 'string' then redis.call('HDEL', KEYS[5], run.runKey) end
      redis.call('HDEL', KEYS[4], id)
      redis.call('ZREM', KEYS[3], id)
      runs = runs + 1
      deleted[#deleted + 1] = id
    end
  end
end
local out = { decisions, runs, events }
for i = 1, #deleted do out[#out + 1] = deleted[i] end
return out
