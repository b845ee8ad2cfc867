--[[
  prune-windows: retention in the watcher's slot ({!watch}). Deletes the given ended windows of one pipeline that the
  caller chose by the rules in src/store/retention.ts, re-checking here what could have changed: a window that is
  live (not terminal) or the newest of its schedule is kept.

  KEYS[1] window-data        hash  window key -> WindowRecord JSON
  KEYS[2] windows:<p>        zset  window key scored by openAt
  KEYS[3] window-live:<p>    set   keys of non-terminal windows
  KEYS[4] window-newest:<p>  hash  schedule -> key of its newest window

  ARGV    window keys

  Returns the number deleted.
]]
local newest = {}
for _, k in ipairs(redis.call('HVALS', KEYS[4])) do newest[k] = true end
local deleted = 0
for i = 1, #ARGV do
  local key = ARGV[i]
  if not newest[key] and redis.call('SISMEMBER', KEYS[3], key) == 0 and redis.call('HEXISTS', KEYS[1], key) == 1 then
    redis.call('HDEL', KEYS[1], key)
    redis.call('ZREM', KEYS[2], key)
    deleted = deleted + 1
  end
end
return deleted
