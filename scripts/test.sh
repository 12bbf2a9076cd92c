#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, the layering check, lints, unit and black-box API
# tests on SQLite and on PostgreSQL, the OpenAPI drift check, and a schemathesis fuzz run against the
# live service.
#
# Needs: Rust with cargo-nextest, python3 with venv, Debian's `chromium` and `chromium-driver` (the
# browser tests fail, not skip, without them), and PostgreSQL at SRDI_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432, trust auth). Python tools are installed into target/test-venv
# on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

VENV="${SRDI_TEST_VENV:-target/test-venv}"
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/python" -c "import standardwebhooks" 2>/dev/null; then
    step "installing python test tools into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/test-requirements.txt
fi
export SRDI_TEST_PYTHON="$VENV/bin/python"

step "cargo fmt --check"
cargo fmt --all -- --check

step "layering: imports point inward, SQL only in store/ and db/"
python3 scripts/check-layers.py --self-test

step "cargo clippy -D warnings"
cargo clippy --all-targets --locked -- -D warnings

step "unit, API and browser tests on SQLite"
SRDI_TEST_DATABASE=sqlite cargo nextest run --locked --no-fail-fast

step "API, journey and browser tests on PostgreSQL"
SRDI_TEST_DATABASE=postgres cargo nextest run --locked --no-fail-fast --test api --test journeys --test browser

step "OpenAPI drift check"
cargo run --quiet --locked -- openapi > target/openapi.generated.json
if ! diff -u openapi/openapi.json target/openapi.generated.json > target/openapi.diff; then
    head -50 target/openapi.diff
    echo "openapi/openapi.json differs from the code: run 'cargo run -- openapi > openapi/openapi.json'" >&2
    exit 1
fi

step "schemathesis against the live service"
# All checks, the strict ones included: a schema-valid request accepted, a schema-violating one
# refused, a deleted resource gone (the 30-minute form is in README under Testing).
scripts/fuzz.sh

echo
echo "all checks passed"
