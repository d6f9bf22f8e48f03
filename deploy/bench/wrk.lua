-- wrk script for make bench.
-- BENCH_BODY set: every request is a POST of that JSON body (the login run).
-- BENCH_MOVES set ("id:version:column,..." from bench.py moves) with BENCH_MOVE_PATH (a format
--   with one %s for the task id): the move runs. Each wrk thread has ONE connection and one task
--   of its own (run them with -t N -c N, N <= movers), so no two connections move the same task.
--   It moves it back and forth between todo and in_progress (to the column's end), sending the
--   version the last answer's ETag gave as If-Match: every move is valid, a 412 is a bug.
-- done(): one line "BENCH_RESULT {json}" with the figures bench.py tabulates
-- (durations and latencies in microseconds; "status" counts non-2xx/3xx answers).

local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

local moves = os.getenv("BENCH_MOVES")
if moves ~= nil and moves ~= "" then
  local path_format = os.getenv("BENCH_MOVE_PATH")
  local other = { todo = "in_progress", in_progress = "todo" }
  local movers = {}
  for id, version, column in string.gmatch(moves, "([^:,]+):(%d+):([^:,]+)") do
    movers[#movers + 1] = { id = id, version = version, column = column }
  end
  local assigned = 0

  -- in the main state, once per thread before it starts: that thread's task
  setup = function(thread)
    assigned = assigned + 1
    local mover = movers[assigned]
    if mover == nil then
      error(string.format("more wrk threads than movers (%d): one task per thread", #movers))
    end
    thread:set("task_id", mover.id)
    thread:set("version", mover.version)
    thread:set("column", mover.column)
  end

  -- below, in each thread's own state: one connection, so answer and next request alternate
  request = function()
    local headers = {}
    for name, value in pairs(wrk.headers) do
      headers[name] = value
    end
    headers["Content-Type"] = "application/json"
    headers["If-Match"] = '"' .. version .. '"'
    target = other[column] or "todo"  -- a task left elsewhere (by hand) rejoins the two columns
    return wrk.format("POST", string.format(path_format, task_id), headers, '{"status":"' .. target .. '"}')
  end

  response = function(status, headers, _)
    local tag = headers["etag"] or headers["ETag"]
    if tag ~= nil then
      version = string.match(tag, "(%d+)") or version
    end
    if status == 200 then
      column = target
    end
  end
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
