-- wrk script: send pre-signed requests from a file, one per line:
--   path \t webhook-id \t webhook-timestamp \t webhook-signature \t body
-- (signing happens in Python before the run: wrk's Lua has no HMAC).
local requests = {}
local index = 0

function init(args)
  for line in io.lines(args[1]) do
    local path, id, ts, sig, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
    requests[#requests + 1] = wrk.format("POST", path, {
      ["Content-Type"] = "application/json",
      ["webhook-id"] = id,
      ["webhook-timestamp"] = ts,
      ["webhook-signature"] = sig,
    }, body)
  end
end

function request()
  index = index + 1
  if index > #requests then index = 1 end
  return requests[index]
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format(
    "RESULT {\"requests\": %d, \"seconds\": %.3f, \"p50_us\": %d, \"p99_us\": %d, " ..
    "\"errors\": %d, \"non2xx\": %d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50),
    latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status))
end
