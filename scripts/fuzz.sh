#!/usr/bin/env bash
# Starts the service on a fresh SQLite database with demo data and fuzzes it from its own OpenAPI
# document with schemathesis: any 5xx, undocumented status or content type, or response that does not
# match its schema fails the run. SRDI_FUZZ_SECONDS bounds the run (default 90).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${SRDI_TEST_VENV:-target/test-venv}"
WORK="$(mktemp -d)"
PORT="${SRDI_FUZZ_PORT:-18765}"
cargo build --quiet --locked
(cd "$WORK" && SRDI_LISTEN="127.0.0.1:$PORT" SRDI_LOG_FORMAT=json exec "$OLDPWD/target/debug/srdi-capital" demo --firms 300 > demo.out 2> demo.err) &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 600); do
    kill -0 $PID 2>/dev/null || break
    if grep -q "^  admin" "$WORK/demo.out" 2>/dev/null && curl -fsS "http://127.0.0.1:$PORT/readyz" > /dev/null 2>&1; then break; fi
    sleep 0.5
done
KEY="$(grep '^  admin' "$WORK/demo.out" | awk '{print $2}' || true)"
[ -n "$KEY" ] || { echo "the service did not start"; cat "$WORK/demo.err"; exit 1; }
"$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
    -H "Authorization: Bearer $KEY" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-time "${SRDI_FUZZ_SECONDS:-90}" \
    --seed 20221 \
    --warnings off
