--[[
  acquire-lease: takes or renews a lease, reckoned on THIS SERVER's clock (TIME), so every host agrees on when it
  expires. Granted when it is free, expired, or held by the same holder; a renewal of a live lease keeps its epoch,
  anything else is a new tenure with epoch + 1, so epochs only grow (leaseGrant in src/store/rules.ts, which this
  copies; the store conformance suite keeps the two equal). The key is in the watcher's slot ({!watch}).

  KEYS[1] lease:<name>  hash  holder, epoch, expiresAt (epoch ms, server clock); never deleted (the epoch stays)

  ARGV[1] holder
  ARGV[2] time to live, ms

  Returns (codes: src/store/redis/codes.ts)
    { 1, holder, epoch, expiresAt }  OK: granted (stored)
    { 0, holder, epoch, expiresAt }  REFUSED: another holder's live lease (as stored)
    { -4 }                           CORRUPT: the stored lease's epoch or expiresAt is not a number
]]
local cur = redis.call('HMGET', KEYS[1], 'holder', 'epoch', 'expiresAt')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch, expiresAt = 0, 0
if cur[1] or cur[2] or cur[3] then
  epoch, expiresAt = tonumber(cur[2] or ''), tonumber(cur[3] or '')
  if epoch == nil or expiresAt == nil or not cur[1] then return { -4 } end
  local live = expiresAt > now
  if live and cur[1] ~= ARGV[1] then return { 0, cur[1], cur[2], cur[3] } end
  if not live then epoch = epoch + 1 end
else
  epoch = 1
end
local until_ = string.format('%d', now + tonumber(ARGV[2]))
local e = string.format('%d', epoch)
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'epoch', e, 'expiresAt', until_)
return { 1, ARGV[1], e, until_ }
