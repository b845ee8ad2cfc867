--[[
  publish-change: the change feed. Included by every script that writes a pipeline's data, with
  `--- @include "publish-change"`, and called once the write is done: the notification leaves in the same atomic step
  as the write, so no write is made without it (on a cluster, PUBLISH reaches every node's subscribers).

  publishChange(channel, payload)
    channel  the store's change channel (<prefix>changes)
    payload  '{"kind":"evaluation"|"run"|"window"|"pipeline","pipeline":…}', built by the caller
]]
local function publishChange(channel, payload)
  redis.call('PUBLISH', channel, payload)
end
