#!/usr/bin/env bash
# Side-by-side ceilings: for the bank pull `GET /v1/matches?limit=100` and the firm list
# `GET /v1/firms?city&tier&limit=50` on 100,000 seeded firms (PostgreSQL), in one run:
#   A. the service under wrk;
#   B. pgbench running the exact SQL of one page (the statements PostgreSQL logged for one request
#      of that page, values in place, prepared like the service's): the database ceiling;
#   B2. the same statements as the service sends them: parameters bound, generic plans (the
#      service's session setting), for the ceiling of the service's own way of asking;
#   C. a trivial actix-web JSON handler (examples/ceiling_http.rs) under the same wrk settings: the
#      HTTP ceiling.
# Interleaved A B C A B C per endpoint, with the load average before each run (the machine is shared).
# Needs: PostgreSQL at 127.0.0.1:5432 (user postgres, trust; superuser for the trace role), wrk,
# pgbench, python3; installs wrk from Debian when missing. Builds the release binary and example.
# Usage: benches/load/ceilings.sh   (from the repository root)
#   REUSE_DB=1 reuses a kept database (KEEP_DB=1 keeps it); FIRMS (100000), PRODUCTS (50),
#   CONNECTIONS (16, also the service's pool and pgbench's clients), DURATION (15s), ROUNDS (2);
#   SKIP_BUILD=1 with BIN and CEILING pointing at other builds (e.g. a debug smoke run of the script).
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${DB:-bench_ceilings}
FIRMS=${FIRMS:-100000}
PRODUCTS=${PRODUCTS:-50}
CONNECTIONS=${CONNECTIONS:-16}
DURATION=${DURATION:-15s}
ROUNDS=${ROUNDS:-2}
PORT=18410
TRACE_PORT=18411
CEILING_PORT=18499
BIN=${BIN:-target/release/srdi-capital}
CEILING=${CEILING:-target/release/examples/ceiling_http}
PG="postgresql://postgres@127.0.0.1:5432"
PSQL="psql -h 127.0.0.1 -U postgres -d $DB -Atq"
PGLOG=${PGLOG:-/var/log/postgresql/postgresql-15-main.log}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  psql -h 127.0.0.1 -U postgres -qc "DROP ROLE IF EXISTS bench_trace" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
if [ "${SKIP_BUILD:-0}" != 1 ]; then cargo build --release --bin srdi-capital --example ceiling_http 2>&1 | tail -1; fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
wait_up() { for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return; sleep 0.2; done; echo "port $1 did not come up" >&2; exit 1; }

echo "== $(date -u +%FT%TZ), $(nproc) cores, $(psql -h 127.0.0.1 -U postgres -Atc 'select version()' | cut -d, -f1), commit $(git rev-parse --short HEAD)"
if [ "${REUSE_DB:-0}" != 1 ]; then
  dropdb -h 127.0.0.1 -U postgres --if-exists "$DB"
  createdb -h 127.0.0.1 -U postgres "$DB"
  echo "== seed $FIRMS firms, $PRODUCTS products (ends with a full rematch)"
  SRDI_DATABASE_URL="$PG/$DB" RUST_LOG=warn /usr/bin/time -f "   wall %e s, max RSS %M KB" \
    "$BIN" seed --firms "$FIRMS" --products "$PRODUCTS" 2>&1 | tail -2
fi
$PSQL -c "VACUUM ANALYZE"
BANK=$($PSQL -c "select m.bank_id from matches m where m.status = 'active' group by m.bank_id order by count(*) desc limit 1")
export SRDI_DATABASE_URL="$PG/$DB"
ADMIN_KEY=$("$BIN" keys create --role admin --label ceilings 2>/dev/null)
BANK_KEY=$("$BIN" keys create --role bank --subject "$BANK" --label ceilings 2>/dev/null)
FIRMS_PATH="/v1/firms?city=qingdao&tier=provincial_srdi&limit=50"
MATCHES_PATH="/v1/matches?limit=100"

# The exact SQL of one page: a service instance connected as a role whose statements PostgreSQL
# logs answers each page twice (the first warms the key cache); the second request's statements
# become the pgbench script.
psql -h 127.0.0.1 -U postgres -qc "DROP ROLE IF EXISTS bench_trace" -c "CREATE ROLE bench_trace LOGIN SUPERUSER" \
  -c "ALTER ROLE bench_trace SET log_statement = 'all'"
SRDI_DATABASE_URL="postgresql://bench_trace@127.0.0.1:5432/$DB" SRDI_WORKERS_ENABLED=false \
  SRDI_LISTEN=127.0.0.1:$TRACE_PORT RUST_LOG=warn "$BIN" serve >"$WORK/trace.log" 2>&1 &
TRACE=$!; PIDS+=("$TRACE"); wait_up $TRACE_PORT
page_sql() { # KEY PATH OUT
  curl -fs -o /dev/null -H "Authorization: Bearer $1" "http://127.0.0.1:$TRACE_PORT$2"
  sleep 0.3; local from; from=$(stat -c %s "$PGLOG")
  curl -fs -o "$WORK/page.json" -H "Authorization: Bearer $1" "http://127.0.0.1:$TRACE_PORT$2"
  sleep 0.5
  tail -c +"$((from + 1))" "$PGLOG" | grep "bench_trace@$DB" | grep -E "execute|parameters" >"$WORK/page.log"
  benches/load/page_sql.py <"$WORK/page.log" >"$3"
  benches/load/page_sql.py --bound "${3%.sql}.bound.defs" <"$WORK/page.log" >"${3%.sql}.bound.sql"
  echo "   $2: $(grep -c ';$' "$3") statement(s) per page, $(python3 -c "import json;print(len(json.load(open('$WORK/page.json'))['items']))") items"
}
echo "== the SQL of one page"
page_sql "$ADMIN_KEY" "$FIRMS_PATH" "$WORK/firms.sql"
page_sql "$BANK_KEY" "$MATCHES_PATH" "$WORK/matches.sql"
kill "$TRACE"; wait "$TRACE" 2>/dev/null || true
psql -h 127.0.0.1 -U postgres -qc "DROP ROLE bench_trace"
cp "$WORK"/firms*.sql "$WORK"/matches*.sql "$WORK"/*.defs "${SQL_OUT:-/tmp}/" 2>/dev/null || true

SRDI_WORKERS_ENABLED=false SRDI_DATABASE_MAX_CONNECTIONS=$CONNECTIONS SRDI_LISTEN=127.0.0.1:$PORT RUST_LOG=warn \
  "$BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER=$!; PIDS+=("$SERVER"); wait_up $PORT
"$CEILING" 127.0.0.1:$CEILING_PORT >/dev/null 2>&1 &
PIDS+=("$!"); wait_up $CEILING_PORT

cat >"$WORK/get.lua" <<'LUA'
local key, path
function init(args) key = args[1]; path = args[2] end
function request() return wrk.format("GET", path, {["Authorization"] = "Bearer " .. key}) end
function done(s, latency, r)
  io.write(string.format("RESULT %.0f req/s, p99 %.2f ms, non-2xx %d, errors %d\n", s.requests / (s.duration / 1e6),
    latency:percentile(99) / 1000, s.errors.status, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout))
end
LUA
run_wrk() { # PORT KEY PATH
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/get.lua" "http://127.0.0.1:$1" -- "$2" "$3" | grep RESULT | cut -d' ' -f2-
}
run_pgbench() { # SCRIPT [DEFINES]
  rm -f "$WORK"/pgbench_log*
  local defs=()
  if [ -n "${2:-}" ]; then mapfile -t defs <"$2"; fi
  PGOPTIONS="${3:-}" pgbench -h 127.0.0.1 -U postgres -n -M prepared -c "$CONNECTIONS" -j 2 -T "${DURATION%s}" -l --log-prefix="$WORK/pgbench_log" \
    "${defs[@]}" -f "$1" "$DB" >"$WORK/pgbench.out" 2>&1
  local tps p99
  tps=$(grep -E '^tps' "$WORK/pgbench.out" | head -1 | awk '{print $3}')
  p99=$(cat "$WORK"/pgbench_log* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; printf "%.2f", a[i]/1000}')
  printf "%.0f pages/s, p99 %s ms\n" "$tps" "$p99"
}

# Warm every path once so that no run pays for first-touch caches.
run_wrk $PORT "$BANK_KEY" "$MATCHES_PATH" >/dev/null; run_wrk $PORT "$ADMIN_KEY" "$FIRMS_PATH" >/dev/null
for endpoint in matches firms; do
  if [ $endpoint = matches ]; then KEY=$BANK_KEY; URL=$MATCHES_PATH; else KEY=$ADMIN_KEY; URL=$FIRMS_PATH; fi
  echo "== GET $URL, $CONNECTIONS connections, $DURATION per run"
  for round in $(seq 1 "$ROUNDS"); do
    echo "   round $round  A service        (load $(load)): $(run_wrk $PORT "$KEY" "$URL")"
    echo "   round $round  B pgbench page   (load $(load)): $(run_pgbench "$WORK/$endpoint.sql")"
    echo "   round $round  B2 bound, generic (load $(load)): $(run_pgbench "$WORK/$endpoint.bound.sql" "$WORK/$endpoint.bound.defs" "-c plan_cache_mode=force_generic_plan")"
    echo "   round $round  C actix trivial  (load $(load)): $(run_wrk $CEILING_PORT "$KEY" "$URL")"
  done
done
echo "== serving process RSS after all runs: $(ps -o rss= -p "$SERVER" | awk '{printf "%.1f MB", $1/1024}')"
if [ "${KEEP_DB:-0}" != 1 ]; then
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  dropdb -h 127.0.0.1 -U postgres "$DB"
fi
