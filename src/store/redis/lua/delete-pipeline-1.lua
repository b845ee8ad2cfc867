--[[
  delete-pipeline: removes a pipeline's registration and publishes the change in the same step (when there was one).
  The caller holds the pipeline's lock with lock-for-delete's marker meanwhile (see redis-store.ts).

  KEYS[1] pipelines  hash  name -> PipelineSpec JSON

  ARGV[1] name
  ARGV[2] the change channel (publish-change)
  ARGV[3] the change payload ({"kind":"pipeline","pipeline":…})

  Returns (codes: src/store/redis/codes.ts)
    { 1 }  OK: deleted, the change published
    { 0 }  REFUSED: nothing was registered under the name; nothing changed
]]
--- @include "publish-change"
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return { 0 } end
publishChange(ARGV[2], ARGV[3])
return { 1 }
