--[[
  window-heads (read-only): what the watcher carries on from, for one or more pipelines: every non-terminal window
  and the newest window of each schedule, each record once. Every key is in the watcher's slot ({!watch}).
  The key count is variable ('-n'): the data hash, then two keys per pipeline.

  KEYS[1]        window-data       hash  window key -> WindowRecord JSON
  KEYS[2i]       window-live:<p>   set   the i-th pipeline's non-terminal window keys
  KEYS[2i + 1]   window-newest:<p> hash  its schedule -> newest window key

  Returns { recordJSON, ... } in no particular order; '' for a key without a record (the caller reports it).
]]
local seen = {}
local keys = {}
for i = 2, #KEYS, 2 do
  for _, k in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    if not seen[k] then seen[k] = true; keys[#keys + 1] = k end
  end
  for _, k in ipairs(redis.call('HVALS', KEYS[i + 1])) do
    if not seen[k] then seen[k] = true; keys[#keys + 1] = k end
  end
end
local out = {}
local CHUNK = 500
for first = 1, #keys, CHUNK do
  local last = math.min(first + CHUNK - 1, #keys)
  local values = redis.call('HMGET', KEYS[1], unpack(keys, first, last))
  for i = 1, #values do out[#out + 1] = values[i] or '' end
end
return out
