-- Shared by the bench/wrk scripts: thread ids, random members, and one JSON line of results.
local M = {}

local thread_count = 0
function M.setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

M.members = tonumber(os.getenv("BENCH_MEMBERS") or "1000000")
M.run = os.getenv("BENCH_RUN") or tostring(os.time())

function M.member()
  return math.random(M.members)
end

-- Prints {"requests", "seconds", "rps", "p50_ms", "p99_ms", "p999_ms", "errors"} for bench/run.
function M.done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.2f,"p99_ms":%.2f,"p999_ms":%.2f,"errors":%d,"status_errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    errors, e.status))
end

return M
