-- The wrk script of bench/serve/run.sh: requests one path on every
-- connection, and at the end prints one line of figures for run.sh to read.
--   wrk ... -s load.lua http://HOST:PORT -- PATH [USERS]
-- With USERS, the "%d" in PATH is replaced on every request by a user number
-- drawn uniformly from 1..USERS; without it the same request is sent again.

local threads = {}
local path, users

-- In the main Lua state, once per wrk thread: numbers the threads so that
-- each draws its own sequence of users.
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

-- In each thread's own Lua state. wrk decides after init whether the
-- requests are dynamic, so `request` is defined only when they are.
function init(args)
  path = args[1] or "/"
  users = tonumber(args[2])
  if users then
    math.randomseed(7919 * thread_id)
    request = function()
      return wrk.format(nil, string.format(path, math.random(users)))
    end
  else
    wrk.path = path
  end
end

-- Latencies are in microseconds. non2xx is wrk's count of responses with a
-- status of 400 or more (its "Non-2xx or 3xx responses" line); socket errors
-- are connections refused, reset or timed out.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "result requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "
      .. "non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
