--[[
  list-windows (read-only): one page of a pipeline's windows, newest openAt first (ties: greatest key first), with
  the state and schedule filters applied here, so the limit counts only matching windows. Both keys are in the
  watcher's slot ({!watch}).

  KEYS[1] windows:<p>   zset  window key scored by openAt
  KEYS[2] window-data   hash  window key -> WindowRecord JSON

  ARGV[1] the highest openAt to include: '+inf', or '(<epoch ms>' for "strictly before"
  ARGV[2] at most this many; -1 = all
  ARGV[3] only this state, or '' for any
  ARGV[4] only this schedule, or '' for any

  Returns { recordJSON, ... } newest first. A record that is not a JSON object is returned as it is (and '' for a
  key without a record), so the caller reports it as corrupt instead of this script hiding it.
]]
local limit = tonumber(ARGV[2])
local out = {}
if limit == 0 then return out end
local PAGE = 500
local offset = 0
while true do
  local keys = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'LIMIT', offset, PAGE)
  if #keys == 0 then return out end
  offset = offset + #keys
  local values = redis.call('HMGET', KEYS[2], unpack(keys))
  for i = 1, #keys do
    local raw = values[i] or ''
    local ok, w = pcall(cjson.decode, raw)
    local keep = true
    if ok and type(w) == 'table' then
      keep = (ARGV[3] == '' or w.state == ARGV[3]) and (ARGV[4] == '' or w.schedule == ARGV[4])
    end
    if keep then
      out[#out + 1] = raw
      if limit > 0 and #out >= limit then return out end
    end
  end
end
