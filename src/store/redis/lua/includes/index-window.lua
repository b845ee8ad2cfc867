--[[
  index-window: keeps a pipeline's window indexes in step with a stored window record, included by create-window and
  cas-window with `--- @include "index-window"`. Every key is in the watcher's slot ({!watch}).

  indexWindow(windowsKey, liveKey, newestKey, pipelinesKey, key, openAt, schedule, live, pipeline)
    windowsKey    zset  window key scored by openAt
    liveKey       set   keys of the non-terminal windows
    newestKey     hash  schedule -> key of its newest window (greatest openAt, ties: greatest key)
    pipelinesKey  set   pipelines that have a window
    key, openAt, schedule  the window's
    live          '1' when the window is not terminal
    pipeline      the window's pipeline
]]
local function indexWindow(windowsKey, liveKey, newestKey, pipelinesKey, key, openAt, schedule, live, pipeline)
  redis.call('ZADD', windowsKey, openAt, key)
  if live == '1' then redis.call('SADD', liveKey, key) else redis.call('SREM', liveKey, key) end
  local newest = redis.call('HGET', newestKey, schedule)
  local replace = not newest
  if newest and newest ~= key then
    local score = tonumber(redis.call('ZSCORE', windowsKey, newest) or '')
    local at = tonumber(openAt)
    replace = score == nil or at > score or (at == score and key > newest)
  end
  if replace then redis.call('HSET', newestKey, schedule, key) end
  redis.call('SADD', pipelinesKey, pipeline)
end
