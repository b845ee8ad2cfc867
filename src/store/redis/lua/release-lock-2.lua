--[[
  release-lock: releases a pipeline's active-run lock, but only if it still names the given run and that run's
  stored version is still the one the caller decided on (the run ended and does not keep the lock any more: a
  leftover lock, or a hold whose job is gone or whose time is up). The caller decides; this only makes it atomic.
  Every key is in the pipeline's hash slot.

  KEYS[1] active      string  runId holding the pipeline's lock
  KEYS[2] run-data    hash    runId -> RunState JSON

  ARGV[1] runId
  ARGV[2] the run's version the caller read
  ARGV[3] the change channel (publish-change)
  ARGV[4] the change payload ({"kind":"run","pipeline":…})

  Returns (codes: src/store/redis/codes.ts)
    { 1 }   OK: the lock was released, the change published
    { 0 }   REFUSED: the lock names another run (or none), or the run has changed since it was read
    { -4 }  CORRUPT: the run's record is not valid JSON
]]
--- @include "publish-change"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return { 0 } end
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then return { 0 } end
local decoded, run = pcall(cjson.decode, raw)
if not decoded or type(run) ~= 'table' then return { -4 } end
if run.version ~= tonumber(ARGV[2]) then return { 0 } end
redis.call('DEL', KEYS[1])
publishChange(ARGV[3], ARGV[4])
return { 1 }
