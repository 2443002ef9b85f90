-- GET /v1/members/{id}/balance with an agent key, random member.
package.path = package.path .. ";" .. (os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/?.lua"
local c = require("common")
setup = c.setup
done = c.done
local headers = {["Authorization"] = "Bearer " .. os.getenv("BENCH_AGENT_KEY")}

function init(args)
  math.randomseed(os.time() + tid * 31337)
end

function request()
  return wrk.format("GET", "/v1/members/" .. c.member() .. "/balance", headers)
end
