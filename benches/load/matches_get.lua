-- wrk script: the bank pull, GET /v1/matches?limit=100 (first page of the full list).
-- Usage: wrk -t2 -c16 -d30s --latency -s matches_get.lua http://127.0.0.1:PORT -- BANK_KEY [QUERY]
local key, query

function init(args)
  key = args[1]
  query = args[2] or "limit=100"
end

function request()
  return wrk.format("GET", "/v1/matches?" .. query, { ["Authorization"] = "Bearer " .. key })
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
