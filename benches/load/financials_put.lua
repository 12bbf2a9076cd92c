-- wrk script: PUT one fiscal year of financials for a random firm, which re-matches that firm
-- against every active product inside the request's transaction.
-- Usage: wrk -t1 -c1 -d30s --latency -s financials_put.lua http://127.0.0.1:PORT -- IDS_FILE ADMIN_KEY YEAR
local ids = {}
local key, year

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  key = args[2]
  year = args[3] or "2025"
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local id = ids[math.random(#ids)]
  local revenue = math.random(5000000, 200000000)
  local body = string.format(
    '{"revenue":"%d.00","rd_expense":"%d.00","net_profit":"%d.00","invention_patents":%d,"employees":%d}',
    revenue, math.floor(revenue / math.random(12, 40)), math.floor(revenue / 12), math.random(0, 30),
    math.random(50, 900))
  return wrk.format("PUT", "/v1/firms/" .. id .. "/financials/" .. year,
    { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
