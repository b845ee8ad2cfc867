--[[
  cas-window: compare-and-swap of a schedule window. Stores the next record only if the stored version is the
  expected one and the next version is expected + 1 (windowCasApplies in src/store/rules.ts, which this copies; the
  key is the hash field, so it cannot differ), and (with a fence) only while the fencing lease still has the
  writer's epoch; re-indexes it and publishes the change, in one step. A next record that names another pipeline or
  schedule than the stored one is refused like a lost race: a window never moves (its key names both).
  Every key is in the watcher's slot ({!watch}).

  KEYS[1..6] as create-window (window-data, windows:<p>, window-live:<p>, window-newest:<p>, window-pipelines,
             lease:<name>), for the NEXT record's pipeline

  ARGV[1] window key
  ARGV[2] expected version
  ARGV[3] next version
  ARGV[4] next WindowRecord JSON
  ARGV[5] openAt, epoch ms
  ARGV[6] schedule
  ARGV[7] '1' when the next record is not terminal
  ARGV[8] pipeline
  ARGV[9] the fence's epoch, or '' for no fence
  ARGV[10] the change channel (publish-change)
  ARGV[11] the change payload ({"kind":"window","pipeline":…})

  Returns (codes: src/store/redis/codes.ts)
    { 1 }                OK: stored, re-indexed, the change published
    { -1 }               NOT_FOUND: no window with this key
    { -2, currentJSON }  STALE: the version (or pipeline, schedule) does not match
    { -4 }               CORRUPT: the stored record is not a JSON object
    { -7, currentJSON? } FENCED: the lease's epoch is not ARGV[9]; checked first
]]
--- @include "lease-fence"
--- @include "index-window"
--- @include "publish-change"

local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not fenceHolds(KEYS[6], ARGV[9]) then return { -7, raw } end
if not raw then return { -1 } end
local decoded, current = pcall(cjson.decode, raw)
if not decoded or type(current) ~= 'table' then return { -4 } end
local expected = tonumber(ARGV[2])
if current.version ~= expected or tonumber(ARGV[3]) ~= expected + 1 then return { -2, raw } end
if current.pipeline ~= ARGV[8] or current.schedule ~= ARGV[6] then return { -2, raw } end

redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
indexWindow(KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
publishChange(ARGV[10], ARGV[11])
return { 1 }
