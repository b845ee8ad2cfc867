--[[
  lock-for-delete: takes a pipeline's active-run lock for deleting its registration, so that no run can start
  between the check and the delete (the registration itself lives in the global pipelines hash, outside the
  pipeline's hash slot, so it cannot be in this script on a cluster). The lock holds a marker, not a run id:
  create-run refuses while it is there (DELETING), readers treat it as no run. It expires by itself (PX), so a
  crash between this script and unlock-delete cannot wedge the pipeline. Every key is in the pipeline's hash slot.

  KEYS[1] active      string  runId holding the pipeline's lock
  KEYS[2] run-data    hash    runId -> RunState JSON

  ARGV[1] the marker to store: '!delete:' followed by a random token (run ids never start with '!')
  ARGV[2] how long the marker lives at most, ms

  Returns (codes: src/store/redis/codes.ts)
    { 1 }                OK: the lock is taken with the marker
    { 0, activeRunJSON } REFUSED: a run holds the lock (its record, or nothing when the lock names no record)
    { -5 }               DELETING: another delete holds it
]]
local active = redis.call('GET', KEYS[1])
if active then
  if string.sub(active, 1, 1) == '!' then return { -5 } end
  return { 0, redis.call('HGET', KEYS[2], active) }
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return { 1 }
