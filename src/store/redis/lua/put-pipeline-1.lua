--[[
  put-pipeline: registers (or replaces) a pipeline's spec and publishes the change in the same step.

  KEYS[1] pipelines  hash  name -> PipelineSpec JSON

  ARGV[1] name
  ARGV[2] PipelineSpec JSON
  ARGV[3] the change channel (publish-change)
  ARGV[4] the change payload ({"kind":"pipeline","pipeline":…})

  Returns (codes: src/store/redis/codes.ts)
    { 1 }  OK
]]
--- @include "publish-change"
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
publishChange(ARGV[3], ARGV[4])
return { 1 }
