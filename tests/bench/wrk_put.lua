-- wrk script for the element PUT runs of tests/bench/load.ts.
--
-- Run with as many threads as connections (-t N -c N): each thread then has one connection,
-- whose requests and responses come strictly in turn, so a response belongs to the oldest
-- request still waiting. Thread `id` (0-based) owns the entries i with (i - 1) % N == id and
-- replaces them round-robin: its k-th request PUTs entry owned[(k - 1) % #owned] with the
-- display name "w<id>-<k>". At the end every thread prints which value it last saw
-- acknowledged (2xx) for each entry, and how many requests it generated, so load.ts can check
-- the final document for lost writes.
--
-- wrk calls request() once on thread 0 before the run to check the request it builds, and never
-- sends that one: thread 0 skips its first call's bookkeeping.
--
-- Arguments (after --): path prefix up to and including "entry%5B@uri=%22", entries, N.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1]
  entries = tonumber(args[2])
  nthreads = tonumber(args[3])
  owned = math.floor((entries - 1 - id) / nthreads) + 1
  generated = 0
  acked = 0
  failed = 0
  last_status = 0
  queue = {}
  qhead = 1
  qtail = 0
  last_acked = {}
  verifying = (id == 0)
end

function request()
  if verifying then
    verifying = false
    return wrk.format("PUT", prefix .. "sip:user1@example.com%22%5D",
      { ["Content-Type"] = "application/xcap-el+xml" }, "<entry/>")
  end
  generated = generated + 1
  local i = id + 1 + ((generated - 1) % owned) * nthreads
  local uri = "sip:user" .. i .. "@example.com"
  qtail = qtail + 1
  queue[qtail] = i * 1000000000 + generated
  return wrk.format("PUT", prefix .. uri .. "%22%5D",
    { ["Content-Type"] = "application/xcap-el+xml" },
    '<entry uri="' .. uri .. '"><display-name>w' .. id .. "-" .. generated ..
      "</display-name></entry>")
end

function response(status, headers, body)
  local item = queue[qhead]
  queue[qhead] = nil
  qhead = qhead + 1
  if status >= 200 and status < 300 then
    acked = acked + 1
    if item ~= nil then
      last_acked[math.floor(item / 1000000000)] = item % 1000000000
    end
  else
    failed = failed + 1
    last_status = status
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    "WRKJSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"connect\":%d,\"read\":%d," ..
      "\"write\":%d,\"status\":%d,\"timeout\":%d,\"p50_us\":%d,\"p99_us\":%d}\n",
    summary.requests, summary.duration, summary.bytes, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
  for _, t in ipairs(threads) do
    io.write(string.format("WRKTHREAD %d %d %d %d %d\n", t:get("id"), t:get("generated"),
      t:get("acked"), t:get("failed"), t:get("last_status")))
    local last = t:get("last_acked")
    for entry, k in pairs(last) do
      io.write(string.format("WRKACK %d %d %d\n", t:get("id"), entry, k))
    end
  end
end
