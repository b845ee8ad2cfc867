--[[
  cas-run: compare-and-swap of one run. Stores the next state only if the stored version is the expected one
  and the next version is expected + 1 (casApplies in src/store/rules.ts, which this copies); a terminal next
  state releases the pipeline's lock (if this run holds it); the transition event is appended in the same step.
  Every key is in the pipeline's hash slot.

  KEYS[1] run-data    hash    runId -> RunState JSON
  KEYS[2] active      string  runId holding the pipeline's lock
  KEYS[3] seq         string  per-pipeline counter (orders events within one millisecond)
  KEYS[4] events      zset    event seq scored by `at`
  KEYS[5] event-data  hash    event seq -> RunEvent JSON

  ARGV[1] runId
  ARGV[2] expected version
  ARGV[3] next version
  ARGV[4] next RunState JSON
  ARGV[5] '1' when the next state releases the lock: terminal, and no lockHeldUntil (the caller decides:
          releasesLock in src/store/rules.ts)
  ARGV[6] the RunEvent JSON WITHOUT its `from` field; the script adds "from" = the stored run's status
  ARGV[7] the event's `at`, epoch ms
  ARGV[8] '1': apply only if the stored run is past its deadlineAt by THIS SERVER's clock (TIME), so a caller
          whose clock runs ahead cannot time out a run early (a timeout); otherwise '0'
  ARGV[9] the change channel (publish-change)
  ARGV[10] the change payload ({"kind":"run","pipeline":…})

  Returns (codes: src/store/redis/codes.ts)
    { 1 }                 OK: stored, event appended, lock released when terminal, the change published
    { -1 }                NOT_FOUND: no such run in this pipeline
    { -2, currentJSON }   STALE: the stored version is not the expected one (or next != expected + 1), or
                          ARGV[8] = '1' and the stored run is not past its deadline by the server's clock
    { -4, runId }         CORRUPT: the stored run is not valid JSON
]]
--- @include "append-record"
--- @include "publish-change"

local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return { -1 } end
local decoded, current = pcall(cjson.decode, raw)
if not decoded or type(current) ~= 'table' or type(current.status) ~= 'string' then return { -4, ARGV[1] } end

local expected = tonumber(ARGV[2])
if current.version ~= expected or tonumber(ARGV[3]) ~= expected + 1 then return { -2, raw } end
if ARGV[8] == '1' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if type(current.deadlineAt) ~= 'number' or now < current.deadlineAt then return { -2, raw } end
end

redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
if ARGV[5] == '1' and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
local event = '{"from":' .. cjson.encode(current.status) .. ',' .. string.sub(ARGV[6], 2)
appendRecord(KEYS[3], KEYS[4], KEYS[5], ARGV[7], event)
publishChange(ARGV[9], ARGV[10])
return { 1 }
