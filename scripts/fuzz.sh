#!/usr/bin/env bash
# Starts the service on a fresh database with demo data and fuzzes it from its own OpenAPI
# document with schemathesis (examples, coverage, fuzzing and the stateful phase): any 5xx,
# undocumented status, content type or header, response that does not match its schema, wrong
# answer to an undeclared method (405 with Allow) fails the run; so does a schema-valid request
# refused, a schema-violating one accepted, or a deleted resource still answering. The few rules
# JSON Schema cannot state (check digits, dates relative to today, references to other records,
# rules across fields) are listed, each with its reason, in scripts/schemathesis.toml.
#
#   scripts/fuzz.sh                        bounded run on SQLite with the admin key (CI)
#   scripts/fuzz.sh --long                 30 minutes
#   scripts/fuzz.sh --postgres             on a fresh PostgreSQL database (SRDI_TEST_POSTGRES_URL)
#   scripts/fuzz.sh --role bank            with the demo bank's key instead of the admin key
#   scripts/fuzz.sh --seconds 600          any other budget
#   scripts/fuzz.sh --lenient              only the response checks (no positive_data_acceptance,
#                                          negative_data_rejection, use_after_free)
#
# SRDI_FUZZ_SECONDS also sets the budget (default 90); SRDI_FUZZ_PORT the port (default 18765).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${SRDI_TEST_VENV:-target/test-venv}"
SECONDS_BUDGET="${SRDI_FUZZ_SECONDS:-90}"
ROLE=admin
BACKEND=sqlite
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,unsupported_method,allow_header_conformance
STRICT=positive_data_acceptance,negative_data_rejection,use_after_free
while [ $# -gt 0 ]; do
    case "$1" in
        --long) SECONDS_BUDGET=1800 ;;
        --seconds) SECONDS_BUDGET="$2"; shift ;;
        --postgres) BACKEND=postgres ;;
        --role) ROLE="$2"; shift ;;
        --strict) ;; # the default; kept so that older command lines still work
        --lenient) STRICT= ;;
        *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
    esac
    shift
done
[ -z "$STRICT" ] || CHECKS="$CHECKS,$STRICT"
case "$ROLE" in admin|bank) ;; *) echo "--role takes admin or bank" >&2; exit 2 ;; esac

WORK="$(mktemp -d)"
PORT="${SRDI_FUZZ_PORT:-18765}"
PG_BASE="${SRDI_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
PG_DB="srdi_fuzz_$$"
cargo build --quiet --locked
DATABASE_URL="sqlite://$WORK/fuzz.db"
if [ "$BACKEND" = postgres ]; then
    psql "$PG_BASE/postgres" -qc "CREATE DATABASE $PG_DB" > /dev/null
    DATABASE_URL="$PG_BASE/$PG_DB"
fi
(cd "$WORK" && SRDI_DATABASE_URL="$DATABASE_URL" SRDI_LISTEN="127.0.0.1:$PORT" SRDI_METRICS_LISTEN=off SRDI_LOG_FORMAT=json \
    exec "$OLDPWD/target/debug/srdi-capital" demo --firms 300 > demo.out 2> demo.err) &
PID=$!
cleanup() {
    kill $PID 2>/dev/null || true
    wait $PID 2>/dev/null || true
    if [ "$BACKEND" = postgres ]; then psql "$PG_BASE/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" > /dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 1 600); do
    kill -0 $PID 2>/dev/null || break
    if grep -q "^  admin" "$WORK/demo.out" 2>/dev/null && curl -fsS "http://127.0.0.1:$PORT/readyz" > /dev/null 2>&1; then break; fi
    sleep 0.5
done
KEY="$(grep "^  $ROLE " "$WORK/demo.out" | awk '{print $2}' || true)"
[ -n "$KEY" ] || { echo "the service did not start"; cat "$WORK/demo.err"; exit 1; }
echo "fuzzing $BACKEND as $ROLE for ${SECONDS_BUDGET}s"
"$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/openapi.json" \
    -H "Authorization: Bearer $KEY" \
    --phases examples,coverage,fuzzing,stateful \
    --checks "$CHECKS" \
    --max-time "$SECONDS_BUDGET" \
    --seed 20221 \
    --warnings off
