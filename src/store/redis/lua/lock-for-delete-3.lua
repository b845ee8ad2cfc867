--[[
  lock-for-delete: takes a pipeline's active-run lock for deleting its registration, so that no run can start
  between the check and the delete (the registration itself lives in the global pipelines hash, outside the
  pipeline's hash slot, so it cannot be in this script on a cluster). The lock holds a marker, not a run id:
  create-run refuses while it is there (DELETING), readers treat it as no run. It expires by itself (PX), so a
  crash between this script and unlock-delete cannot wedge the pipeline. Every key is in the pipeline's hash slot.

  KEYS[1] active      string  runId holding the pipeline's lock
  KEYS[2] run-data    hash    runId -> RunState JSON
  KEYS[3] runs        zset    runId scored by createdAt

  ARGV[1] the marker to store: '!delete:' followed by a random token (run ids never start with '!')
  ARGV[2] how long the marker lives at most, ms
  ARGV[3] the non-terminal statuses as ',A,B,…,' (the caller knows them: src/core/run-status.ts)

  Returns (codes: src/store/redis/codes.ts)
    { 1 }                OK: the lock is taken with the marker
    { 0, activeRunJSON } REFUSED: a run holds the lock (its record, or nothing when the lock names no record)
    { -5 }               DELETING: another delete holds it

  A lost lock (the active key evicted or deleted while the newest run has not ended, or still holds the lock for
  its command: lockHeldUntil) is taken back for that run and the delete REFUSED, as create-run does: a run that
  has taken the lock never loses its pipeline (takeBackLock, lua/includes/take-back-lock.lua).
]]
--- @include "take-back-lock"
local active = redis.call('GET', KEYS[1])
if active then
  if string.sub(active, 1, 1) == '!' then return { -5 } end
  return { 0, redis.call('HGET', KEYS[2], active) }
end
local taken = takeBackLock(KEYS[2], KEYS[3], KEYS[1], ARGV[3])
if taken then return { 0, taken } end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return { 1 }
