-- POST /v1/redemptions: one 100-point reward (BENCH100, fulfilled by T) per request, random member.
package.path = package.path .. ";" .. (os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/?.lua"
local c = require("common")
setup = c.setup
done = c.done
local n = 0
local headers = {["Authorization"] = "Bearer " .. os.getenv("BENCH_PARTNER_KEY"), ["Content-Type"] = "application/json"}

function init(args)
  math.randomseed(os.time() + tid * 65537)
end

function request()
  n = n + 1
  local body = string.format('{"request_id":"r%s-%d-%d","member_id":%d,"reward":"BENCH100"}', c.run, tid, n, c.member())
  return wrk.format("POST", "/v1/redemptions", headers, body)
end
