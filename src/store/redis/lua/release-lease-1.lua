--[[
  release-lease: gives a lease up, only if the holder still holds it at the epoch it was granted. The epoch is kept
  (epochs only grow): the lease is expired now (expiresAt 0) instead of deleted, so the next holder gets epoch + 1.
  The key is in the watcher's slot ({!watch}).

  KEYS[1] lease:<name>  hash  holder, epoch, expiresAt

  ARGV[1] holder
  ARGV[2] epoch

  Returns (codes: src/store/redis/codes.ts)
    { 1 }  OK: released
    { 0 }  REFUSED: another holder, another epoch, or no lease; nothing changed
]]
local cur = redis.call('HMGET', KEYS[1], 'holder', 'epoch')
if cur[1] ~= ARGV[1] or tonumber(cur[2] or '') ~= tonumber(ARGV[2]) then return { 0 } end
redis.call('HSET', KEYS[1], 'expiresAt', '0')
return { 1 }
