-- POST /v1/accruals/batch: BENCH_BATCH (default 1,000) new events per request, random members.
package.path = package.path .. ";" .. (os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/?.lua"
local c = require("common")
setup = c.setup
done = c.done
local n = 0
local size = tonumber(os.getenv("BENCH_BATCH") or "1000")
local headers = {["Authorization"] = "Bearer " .. os.getenv("BENCH_PARTNER_KEY"), ["Content-Type"] = "application/json"}

function init(args)
  math.randomseed(os.time() + tid * 104729)
end

function request()
  local events = {}
  for i = 1, size do
    n = n + 1
    events[i] = string.format(
      '{"event_id":"b%s-%d-%d","member_id":%d,"category":"data","amount_minor":1234,"occurred_at":"2026-11-01T10:00:00+08:00"}',
      c.run, tid, n, c.member())
  end
  return wrk.format("POST", "/v1/accruals/batch", headers, '{"events":[' .. table.concat(events, ",") .. "]}")
end
