--[[
  lease-fence: whether a lease still has the epoch a writer was granted, included by the window writes
  (create-window, cas-window) with `--- @include "lease-fence"`. A writer whose lease passed to a newer holder (a
  higher epoch) is refused: it no longer leads. The lease's key is in the same slot as the windows ({!watch}).

  fenceHolds(leaseKey, epoch)
    leaseKey  hash  holder, epoch, expiresAt
    epoch           the writer's epoch as a string; '' = no fence (always holds)
  Returns true when there is no fence or the stored epoch equals it (a missing lease does not hold).
]]
local function fenceHolds(leaseKey, epoch)
  if epoch == '' then return true end
  local stored = tonumber(redis.call('HGET', leaseKey, 'epoch') or '')
  return stored ~= nil and stored == tonumber(epoch)
end
