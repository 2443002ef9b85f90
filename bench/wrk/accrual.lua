-- POST /v1/accruals: one new event (a 12.34 CNY data bill, 24 points) per request, random member.
package.path = package.path .. ";" .. (os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/?.lua"
local c = require("common")
setup = c.setup
done = c.done
local n = 0
local headers = {["Authorization"] = "Bearer " .. os.getenv("BENCH_PARTNER_KEY"), ["Content-Type"] = "application/json"}

function init(args)
  math.randomseed(os.time() + tid * 7919)
end

function request()
  n = n + 1
  local body = string.format(
    '{"event_id":"s%s-%d-%d","member_id":%d,"category":"data","amount_minor":1234,"occurred_at":"2026-11-01T10:00:00+08:00"}',
    c.run, tid, n, c.member())
  return wrk.format("POST", "/v1/accruals", headers, body)
end
