#!/usr/bin/env bash
# Page latency under load on the demo database: starts the release binary's demo on a fresh SQLite
# file (1,200 firms), signs in as each role with its demo key (cookie kept like a browser keeps
# it), and runs wrk (Debian package `wrk`) against the main page of each role on loopback.
#
#   scripts/bench-pages.sh            # needs `cargo build --release` first
#   DURATION=30s CONNECTIONS=16 scripts/bench-pages.sh
#   ONLY=/app/matches CONNECTIONS=4 scripts/bench-pages.sh     # pages whose path contains ONLY
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-8}"
THREADS="${THREADS:-2}"
PORT="${PORT:-18090}"
BIN=target/release/srdi-capital
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v wrk > /dev/null || { echo "wrk missing: apt-get install -y wrk" >&2; exit 1; }

work="$(mktemp -d)"
B="http://127.0.0.1:$PORT"
(cd "$work" && SRDI_DATABASE_URL="sqlite://$work/demo.db" SRDI_LISTEN="127.0.0.1:$PORT" \
    SRDI_MAIL_DIR="$work/mail" RUST_LOG=warn exec "$OLDPWD/$BIN" demo > "$work/demo.log" 2>&1) &
demo=$!
trap 'kill $demo 2> /dev/null; wait $demo 2> /dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
    grep -q "^  enterprise " "$work/demo.log" 2> /dev/null && curl -fs "$B/healthz" > /dev/null && break
    kill -0 $demo 2> /dev/null || { cat "$work/demo.log" >&2; exit 1; }
    sleep 0.5
done
key() { awk -v r="$1" '$1 == r && $2 ~ /^srdi_/ { print $2 }' "$work/demo.log"; }
firm="$(awk '/enterprise key acts for firm/ { print $NF }' "$work/demo.log")"

# Signs in like the browser does (pre-session cookie, CSRF token, key) and prints the session cookie.
session() {
    local jar="$work/jar-$1"
    curl -fs -c "$jar" -b "$jar" "$B/signin" -o "$work/signin.html"
    local token
    token="$(grep -o 'name="csrf_token" value="[^"]*"' "$work/signin.html" | head -1 | sed 's/.*value="//; s/"$//')"
    curl -fs -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf_token=$token" --data-urlencode "key=$(key "$1")" "$B/signin/key"
    awk '$6 == "srdi_session" { print $7 }' "$jar"
}

echo "date: $(date -u +%Y-%m-%dT%H:%MZ); load average before: $(cut -d' ' -f1-3 /proc/loadavg); nproc: $(nproc)"
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, one page at a time"
for spec in "enterprise /app/firms/$firm" "enterprise /app/firms/$firm/matches" "enterprise /app/firms/$firm/readiness" \
            "fund /app/roadshows" "bank /app/matches" "bank /app/applications" "admin /app/office" "admin /app/pool" \
            "public /roadshows"; do
    set -- $spec
    [ -n "${ONLY:-}" ] && [[ "$2" != *"$ONLY"* ]] && continue
    if [ "$1" = public ]; then cookie=""; else cookie="srdi_session=$(session "$1")"; fi
    status="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$B$2")"
    [ "$status" = 200 ] || { echo "$2 answered $status" >&2; exit 1; }
    printf '%-11s %-50s ' "$1" "$2"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Cookie: $cookie" "$B$2" \
        | awk '/Requests\/sec/ { rps = $2 } /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 } /Non-2xx/ { bad = $NF }
               END { printf "req/s %8s  p50 %8s  p99 %8s%s\n", rps, p50, p99, (bad ? "  NON-2XX " bad : "") }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
