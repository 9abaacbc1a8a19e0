-- POSTs form bodies read from a file, one per line, in order, over every connection of one
-- wrk thread; after the last one it starts again ("wrapped" counts how often). Prints one
-- JSON line at the end: requests, duration, errors, latency percentiles (microseconds), and
-- the first non-200 answer seen, for the benchmark to show.
--   wrk -t1 -c32 -d8s -s bench/wrk_bodies.lua URL -- PATH BODIES_FILE

local bodies, index, wrapped, failed, sample = {}, 0, 0, 0, nil
local path = "/"
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  path = args[1]
  for line in io.lines(args[2]) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
end

function request()
  index = index + 1
  if index > #bodies then
    index, wrapped = 1, wrapped + 1
  end
  return wrk.format("POST", path, headers, bodies[index])
end

function response(status, _, body)
  if status ~= 200 then
    failed = failed + 1
    if sample == nil then sample = status .. " " .. string.sub(body or "", 1, 200) end
  end
end

local function quote(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, _)
  local wraps, fails, first = 0, 0, nil
  for _, thread in ipairs(threads) do
    wraps = wraps + (thread:get("wrapped") or 0)
    fails = fails + (thread:get("failed") or 0)
    first = first or thread:get("sample")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, '
      .. '"non200": %d, "wrapped": %d, "p50_us": %d, "p99_us": %d, "sample": %s}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, fails, wraps,
    latency:percentile(50), latency:percentile(99), first and quote(first) or "null"))
end
