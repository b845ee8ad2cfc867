--[[
  unlock-delete: releases the lock lock-for-delete took, only if it still holds that delete's marker.

  KEYS[1] active      string  runId holding the pipeline's lock (here: the marker)

  ARGV[1] the marker lock-for-delete stored

  Returns (codes: src/store/redis/codes.ts)
    { 1 }  OK: released
    { 0 }  REFUSED: the marker is not there any more (it expired); nothing changed
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return { 0 } end
redis.call('DEL', KEYS[1])
return { 1 }
