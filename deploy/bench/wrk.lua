-- wrk script for make bench.
-- BENCH_BODY set: every request is a POST of that JSON body (the login run).
-- done(): one line "BENCH_RESULT {json}" with the figures bench.py tabulates
-- (durations and latencies in microseconds; "status" counts non-2xx/3xx answers).

local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %.0f, "p90_us": %.0f, '
      .. '"p99_us": %.0f, "max_us": %.0f, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
