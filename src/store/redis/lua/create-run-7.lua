--[[
  create-run: stores a new PENDING run and takes its pipeline's active-run lock, atomically; a run with a run key
  also claims that key, for ever (refused when any run ever claimed it). Every key is in the pipeline's hash slot
  ({<pipeline>}): a run key names its pipeline (`<pipeline>@…`, checked by the caller), so the one index that can
  hold it is this pipeline's, and the claim is atomic with the create on a cluster too.

  KEYS[1] run-data    hash    runId -> RunState JSON
  KEYS[2] runs        zset    runId scored by createdAt
  KEYS[3] active      string  runId holding the pipeline's lock
  KEYS[4] seq         string  per-pipeline counter (orders events within one millisecond)
  KEYS[5] events      zset    event seq scored by `at`
  KEYS[6] event-data  hash    event seq -> RunEvent JSON
  KEYS[7] run-keys    hash    runKey -> runId (every run key claimed in this pipeline)

  ARGV[1] runId
  ARGV[2] RunState JSON (version 1)
  ARGV[3] createdAt, epoch ms
  ARGV[4] RunEvent JSON of the creation (from = null)
  ARGV[5] the event's `at`, epoch ms
  ARGV[6] the non-terminal statuses as ',A,B,…,' (the caller knows them: src/core/run-status.ts)
  ARGV[7] the run key, or '' for a run without one
  ARGV[8] the change channel (publish-change)
  ARGV[9] the change payload ({"kind":"run","pipeline":…})

  Returns (codes: src/store/redis/codes.ts)
    { 1 }                   OK: created, the lock is taken, the run key (if any) claimed; the change published
    { -6, claimedRunJSON, known }
                            CLAIMED: a run (of any state) already has ARGV[7]; checked first, before the lock;
                            known = 1 when a run with ARGV[1]'s id is stored here, else 0
    { 0, activeRunJSON, known }
                            REFUSED: a run holds the lock; known = 1 when a run with ARGV[1]'s id is stored
                            here (so the caller must keep its run-index entry), else 0
    { -3 }                  EXISTS: a run with this id is already stored
    { -4, runId }           CORRUPT: the lock (or the run key's claim) names a run that has no record
    { -5 }                  DELETING: the pipeline's registration is being deleted (lock-for-delete's marker)

  A lost lock (the active key evicted or deleted while the newest run has not ended, or has ended but still holds
  the lock for its command: lockHeldUntil) is taken back for that run and the create is REFUSED with it
  (takeBackLock, lua/includes/take-back-lock.lua): losing a key must never let a second run start beside a job.
]]
--- @include "append-record"
--- @include "take-back-lock"
--- @include "publish-change"

if ARGV[7] ~= '' then
  local claimedId = redis.call('HGET', KEYS[7], ARGV[7])
  if claimedId then
    local claimed = redis.call('HGET', KEYS[1], claimedId)
    if not claimed then return { -4, claimedId } end
    return { -6, claimed, redis.call('HEXISTS', KEYS[1], ARGV[1]) }
  end
end

local active = redis.call('GET', KEYS[3])
if active then
  if string.sub(active, 1, 1) == '!' then return { -5 } end
  local run = redis.call('HGET', KEYS[1], active)
  if not run then return { -4, active } end
  return { 0, run, redis.call('HEXISTS', KEYS[1], ARGV[1]) }
end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return { -3 } end

local taken = takeBackLock(KEYS[1], KEYS[2], KEYS[3], ARGV[6])
if taken then return { 0, taken, 0 } end

redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('SET', KEYS[3], ARGV[1])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[7], ARGV[7], ARGV[1]) end
appendRecord(KEYS[4], KEYS[5], KEYS[6], ARGV[5], ARGV[4])
publishChange(ARGV[8], ARGV[9])
return { 1 }
