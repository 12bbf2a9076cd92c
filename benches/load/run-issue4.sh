#!/usr/bin/env bash
# Issue 4 benchmarks on PostgreSQL (see BENCHMARKS.md, "Issue 4"):
#   1. seed 100,000 firms and 50 loan products (the seed ends with a cold full rematch);
#   2. full rematch, warm (nothing changed) and cold (matches table emptied), with peak memory;
#   3. a rematch after 10 % of the firms changed their latest revenue;
#   4. PUT financials through the API (re-matching one firm against 50 products per request);
#   5. GET /v1/matches?limit=100 under wrk.
# Needs: a release build, PostgreSQL at 127.0.0.1:5432 (user postgres, trust), wrk, GNU time.
# Usage: benches/load/run-issue4.sh [BIN]   (drops the bench database at the end; KEEP_DB=1 keeps it,
#        REUSE_DB=1 skips seeding and the rematch runs and benchmarks the API on a kept database)
set -euo pipefail
BIN=${1:-target/release/srdi-capital}
DB=${DB:-bench_financing}
FIRMS=${FIRMS:-100000}
PRODUCTS=${PRODUCTS:-50}
PORT=${PORT:-18404}
DURATION=${DURATION:-30s}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
export SRDI_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export RUST_LOG=${RUST_LOG:-warn}
PSQL="psql -h 127.0.0.1 -U postgres -d $DB -Atq"
timed() { /usr/bin/time -f "    wall %e s, max RSS %M KB" "$@"; }

echo "== machine: $(nproc) cores, $(grep 'model name' /proc/cpuinfo | head -1 | cut -d: -f2 | xargs), $(free -g | awk '/Mem/{print $2}') GB; $(psql -h 127.0.0.1 -U postgres -Atc 'select version()' | cut -d, -f1)"
if [ "${REUSE_DB:-0}" != 1 ]; then
dropdb -h 127.0.0.1 -U postgres --if-exists "$DB"
createdb -h 127.0.0.1 -U postgres "$DB"

echo "== seed $FIRMS firms, $PRODUCTS products (ends with a cold rematch)"
timed "$BIN" seed --firms "$FIRMS" --products "$PRODUCTS" 2>&1 | grep -v '^\s*$' | tail -4
$PSQL -c "ANALYZE"
echo "    matches: $($PSQL -c "select count(*) from matches where status = 'active'") active; queue: $($PSQL -c 'select count(*) from match_queue')"

echo "== rematch, warm (nothing changed)"
timed "$BIN" rematch | tr -d '\n' | sed 's/  */ /g'; echo
echo "== rematch, cold (matches emptied)"
$PSQL -c "TRUNCATE matches; DELETE FROM events WHERE event_type LIKE 'match.%'"
timed "$BIN" rematch | tr -d '\n' | sed 's/  */ /g'; echo
echo "== rematch after 10 % of firms changed their latest revenue (bypassing the API)"
$PSQL -c "UPDATE financials SET revenue = revenue * 3 / 5 WHERE fiscal_year = (SELECT MAX(fiscal_year) FROM financials) AND right(firm_id, 1) IN ('0', '8')"
$PSQL -c "DELETE FROM match_queue"
timed "$BIN" rematch | tr -d '\n' | sed 's/  */ /g'; echo
fi
# Let autovacuum's work after millions of inserts and deletes not land in the HTTP runs.
$PSQL -c "VACUUM ANALYZE"

YEAR=$($PSQL -c "select max(fiscal_year) from financials")
$PSQL -c "select id from firms order by md5(id) limit 5000" > "$WORK/ids"
BANK=$($PSQL -c "select b.id from banks b join matches m on m.bank_id = b.id where m.status = 'active' group by b.id order by count(*) desc limit 1")
ADMIN_KEY=$("$BIN" keys create --role admin --label bench)
BANK_KEY=$("$BIN" keys create --role bank --subject "$BANK" --label bench)
SRDI_LISTEN=127.0.0.1:$PORT "$BIN" serve > "$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/readyz" > /dev/null && break; sleep 0.2; done
echo "    bank $BANK sees $(curl -fs -H "Authorization: Bearer $BANK_KEY" "http://127.0.0.1:$PORT/v1/matches?limit=1" > /dev/null && $PSQL -c "select count(*) from matches m where m.bank_id = '$BANK' and m.status = 'active'") active matches (before consent)"

echo "== PUT /v1/firms/{id}/financials/$YEAR (re-match against $PRODUCTS products in the request), 1 connection"
wrk -t1 -c1 -d"$DURATION" --latency -s "$HERE/financials_put.lua" "http://127.0.0.1:$PORT" -- "$WORK/ids" "$ADMIN_KEY" "$YEAR" | sed -n '/Latency Distribution/,/Requests\/sec/p'
echo "== same, 4 connections"
wrk -t2 -c4 -d"$DURATION" --latency -s "$HERE/financials_put.lua" "http://127.0.0.1:$PORT" -- "$WORK/ids" "$ADMIN_KEY" "$YEAR" | sed -n '/Latency Distribution/,/Requests\/sec/p'

echo "== GET /v1/matches?limit=100 (bank key), 16 connections"
wrk -t2 -c16 -d"$DURATION" --latency -s "$HERE/matches_get.lua" "http://127.0.0.1:$PORT" -- "$BANK_KEY" "limit=100" | sed -n '/Latency Distribution/,/Requests\/sec/p'
echo "== GET /v1/matches?limit=100&city=qingdao&min_score=80, 16 connections"
wrk -t2 -c16 -d"$DURATION" --latency -s "$HERE/matches_get.lua" "http://127.0.0.1:$PORT" -- "$BANK_KEY" "limit=100&city=qingdao&min_score=80" | sed -n '/Latency Distribution/,/Requests\/sec/p'

kill $SERVER; wait $SERVER 2>/dev/null || true
if [ "${KEEP_DB:-0}" != 1 ]; then dropdb -h 127.0.0.1 -U postgres "$DB"; fi
