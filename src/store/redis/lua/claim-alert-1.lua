--[[
  claim-alert: alert de-duplication. Records the fingerprint for the key and says whether to send: fire when
  there is no stored fingerprint, it differs, or it was sent at least repeatAfterMs ago (shouldSendAlert in
  src/store/rules.ts, which this copies; the store conformance suite keeps the two equal).

  KEYS[1] the alert's hash: fp (fingerprint), sentAt (epoch ms)

  ARGV[1] fingerprint
  ARGV[2] now, epoch ms
  ARGV[3] repeatAfterMs
  ARGV[4] optional: when > 0, the mark expires this many ms after it was last set (window and run marks)

  Returns (codes: src/store/redis/codes.ts)
    { fire }                 fire = 1 (send) or 0 (suppress); nothing was stored before
    { fire, previousFp }     the fingerprint stored before this call
]]
local prev = redis.call('HMGET', KEYS[1], 'fp', 'sentAt')
local fp, sentAt = prev[1], tonumber(prev[2] or '')
local now = tonumber(ARGV[2])
local fire = 0
if not fp or fp ~= ARGV[1] or sentAt == nil or now - sentAt >= tonumber(ARGV[3]) then fire = 1 end
if fire == 1 then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'sentAt', ARGV[2])
  local ttl = tonumber(ARGV[4] or '0') or 0
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
end
if fp then return { fire, fp } end
return { fire }
