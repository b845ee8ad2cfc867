--[[
  create-window: stores a new schedule window record, only if no record has its key, and (with a fence) only while
  the fencing lease still has the writer's epoch; indexes it and publishes the change, in one step.
  Every key is in the watcher's slot ({!watch}): windows and leases share it so the fence is checked atomically.

  KEYS[1] window-data       hash  window key -> WindowRecord JSON
  KEYS[2] windows:<p>       zset  window key scored by openAt
  KEYS[3] window-live:<p>   set   keys of the pipeline's non-terminal windows
  KEYS[4] window-newest:<p> hash  schedule -> key of its newest window
  KEYS[5] window-pipelines  set   pipelines that have a window
  KEYS[6] lease:<name>      hash  the fence's lease (holder, epoch, expiresAt); without a fence any key of the slot

  ARGV[1] window key
  ARGV[2] WindowRecord JSON
  ARGV[3] openAt, epoch ms
  ARGV[4] schedule
  ARGV[5] '1' when the window is not terminal (the caller decides: isWindowTerminal in src/engine/window.ts)
  ARGV[6] pipeline
  ARGV[7] the fence's epoch, or '' for no fence
  ARGV[8] the change channel (publish-change)
  ARGV[9] the change payload ({"kind":"window","pipeline":…})

  Returns (codes: src/store/redis/codes.ts)
    { 1 }                OK: created, indexed, the change published
    { 0, currentJSON }   REFUSED: a window with this key exists (its record)
    { -7, currentJSON? } FENCED: the lease's epoch is not ARGV[7] (the stored record, if any); checked first
]]
--- @include "lease-fence"
--- @include "index-window"
--- @include "publish-change"

local current = redis.call('HGET', KEYS[1], ARGV[1])
if not fenceHolds(KEYS[6], ARGV[7]) then return { -7, current } end
if current then return { 0, current } end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
indexWindow(KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
publishChange(ARGV[8], ARGV[9])
return { 1 }
