-- wrk script: GET /v1/firms?city=…&tier=…&limit=50, cycling through cities and tiers.
-- Usage: wrk -t2 -c32 -d30s -s benches/load/firms_list.lua http://127.0.0.1:8080 -- <admin key>
local cities = {"jinan","qingdao","zibo","zaozhuang","dongying","yantai","weifang","jining","taian","weihai","rizhao","linyi","dezhou","liaocheng","binzhou","heze"}
local tiers = {"innovative_sme","provincial_srdi","little_giant"}
local key
local n = 0
function init(args) key = args[1] end
function request()
  n = n + 1
  local path = string.format("/v1/firms?city=%s&tier=%s&limit=50", cities[(n % #cities) + 1], tiers[(n % #tiers) + 1])
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. key})
end
function done(summary, latency, requests)
  io.write(string.format("requests/s %.0f  p50 %.2f ms  p99 %.2f ms  errors %d non-2xx %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
