#!/usr/bin/env bash
# Issue 2 benchmarks: import of a 10,000-firm CSV (3 fiscal years each) on SQLite and PostgreSQL,
# GET /v1/firms?city&tier&limit=50 under wrk on a 100,000-firm PostgreSQL database, and the serving
# process's resident memory. Needs a release build, wrk, and PostgreSQL at 127.0.0.1:5432 (user postgres).
# Usage: benches/load/issue2.sh        (from the repository root)
set -euo pipefail
BIN=target/release/srdi-capital
PG=postgres://postgres@127.0.0.1:5432
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== import of 10,000 firms x 3 years =="
$BIN seed --firms 10000 --csv "$WORK/firms.csv" 2>/dev/null
echo "rows: $(($(wc -l < "$WORK/firms.csv") - 1))"
SRDI_DATABASE_URL="sqlite://$WORK/bench.db" $BIN migrate 2>/dev/null
/usr/bin/time -f "sqlite import (CLI, whole process): %e s, max RSS %M KB" \
  env SRDI_DATABASE_URL="sqlite://$WORK/bench.db" $BIN import "$WORK/firms.csv" 2>&1 >/dev/null | tail -1
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS bench_import" -qc "CREATE DATABASE bench_import"
SRDI_DATABASE_URL="$PG/bench_import" $BIN migrate 2>/dev/null
/usr/bin/time -f "postgres import (CLI, whole process): %e s, max RSS %M KB" \
  env SRDI_DATABASE_URL="$PG/bench_import" $BIN import "$WORK/firms.csv" 2>&1 >/dev/null | tail -1
psql "$PG/postgres" -qc "DROP DATABASE bench_import"

echo "== GET /v1/firms on 100,000 firms (PostgreSQL) =="
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS bench_firms" -qc "CREATE DATABASE bench_firms"
export SRDI_DATABASE_URL="$PG/bench_firms"
/usr/bin/time -f "seed 100,000 firms: %e s" $BIN seed --firms 100000 2>&1 | tail -1
psql "$SRDI_DATABASE_URL" -qc "ANALYZE"
KEY=$($BIN keys create --role admin --label bench 2>/dev/null)
SRDI_LISTEN=127.0.0.1:18090 SRDI_DATABASE_MAX_CONNECTIONS=16 RUST_LOG=warn $BIN serve 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do curl -fsS http://127.0.0.1:18090/readyz >/dev/null 2>&1 && break; sleep 0.2; done
wrk -t2 -c32 -d10s -s benches/load/firms_list.lua http://127.0.0.1:18090 -- "$KEY" >/dev/null  # warm-up
wrk -t2 -c32 -d30s -s benches/load/firms_list.lua http://127.0.0.1:18090 -- "$KEY" | tail -1
echo "serving process RSS after load: $(ps -o rss= -p $PID | awk '{printf "%.1f MB", $1/1024}')"
kill $PID; wait $PID 2>/dev/null || true
psql "$PG/postgres" -qc "DROP DATABASE bench_firms"
