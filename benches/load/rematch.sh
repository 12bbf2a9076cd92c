#!/usr/bin/env bash
# Issue 10 benchmarks on PostgreSQL (see BENCHMARKS.md, "Issue 10"):
#   1. `seed --firms $FIRMS --products $PRODUCTS`: wall time and peak resident memory;
#   2. cold full rematch (matches and match events emptied): wall, peak RSS, CPU of the process;
#      then the same result rows (matches + match events) written with COPY, in the same run;
#   3. import of a `seed --csv` file of $IMPORT_FIRMS firms × 3 years into an empty database, against
#      `psql \copy` of the rows that import wrote (every table it added rows to), same run;
#   4. import of a $FIRMS-firm file: peak resident memory.
# Needs: a release build, PostgreSQL at 127.0.0.1:5432 (user postgres, trust), GNU time, psql.
# Usage: benches/load/rematch.sh [BIN]   (KEEP_DB=1 keeps the databases; STEPS="import" runs only
# some of: seed-rematch import bigimport)
set -euo pipefail
export LC_ALL=C
BIN=${1:-target/release/srdi-capital}
DB=${DB:-srdi_scale_bench}
IMPORT_DB=${IMPORT_DB:-srdi_scale_import}
FIRMS=${FIRMS:-100000}
PRODUCTS=${PRODUCTS:-50}
IMPORT_FIRMS=${IMPORT_FIRMS:-10000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export RUST_LOG=${RUST_LOG:-warn}
PG="-h 127.0.0.1 -U postgres"
psql_db() { psql $PG -d "$1" -Atq -v ON_ERROR_STOP=1 "${@:2}"; }
# wall seconds, peak RSS (MB), user+sys CPU seconds of a command
measure() {
    local label=$1; shift
    /usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || { cat "$WORK/err"; exit 1; }
    read -r wall rss user sys < "$WORK/time"
    printf '%-44s wall %7.2f s   peak RSS %6.1f MB   CPU %6.2f s\n' "$label" "$wall" "$(echo "$rss / 1024" | bc -l)" "$(echo "$user + $sys" | bc -l)"
}
# Times loading, with COPY in one transaction, rows exported beforehand: "$1" database, "$2" SQL that
# empties what is reloaded (run before the timing, with VACUUM), then "table|select" pairs.
copy_seconds() {
    local db=$1 clear=$2; shift 2
    : > "$WORK/load.sql"
    echo "BEGIN;" >> "$WORK/load.sql"
    for spec in "$@"; do
        local table=${spec%%|*} select=${spec#*|}
        psql_db "$db" -c "\\copy ($select) TO '$WORK/$table.copy'"
        echo "\\copy $table FROM '$WORK/$table.copy'" >> "$WORK/load.sql"
    done
    echo "COMMIT;" >> "$WORK/load.sql"
    psql_db "$db" -c "$clear"
    psql_db "$db" -c "VACUUM ANALYZE"
    local start end
    start=$(date +%s.%N)
    psql_db "$db" -f "$WORK/load.sql" >&2 || { echo "COPY load failed" >&2; return 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

STEPS=${STEPS:-seed-rematch import bigimport}
step() { [[ " $STEPS " == *" $1 "* ]]; }
echo "== $(date -u +%F' '%H:%M) UTC; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $(psql $PG -Atc 'select version()' | cut -d, -f1)"
if step seed-rematch; then
dropdb $PG --if-exists "$DB"; createdb $PG "$DB"
export SRDI_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"

measure "seed --firms $FIRMS --products $PRODUCTS" "$BIN" seed --firms "$FIRMS" --products "$PRODUCTS"
tail -2 "$WORK/err" | sed 's/^/    /'
psql_db "$DB" -c "ANALYZE"
echo "    $(psql_db "$DB" -c "select count(*) from firms") firms, $(psql_db "$DB" -c "select count(*) from products where active") active products"

echo "== cold rematch: matches and match events emptied"
psql_db "$DB" -c "TRUNCATE matches" -c "DELETE FROM events WHERE event_type LIKE 'match.%'" -c "VACUUM ANALYZE"
measure "rematch (cold)" "$BIN" rematch
REMATCH_WALL=$(cut -d' ' -f1 "$WORK/time")
tr -d '\n' < "$WORK/out" | sed 's/  */ /g; s/^/    /'; echo
ROWS_M=$(psql_db "$DB" -c "select count(*) from matches")
ROWS_E=$(psql_db "$DB" -c "select count(*) from events where event_type like 'match.%'")
COPY_S=$(copy_seconds "$DB" "TRUNCATE matches; DELETE FROM events WHERE event_type LIKE 'match.%'" \
    "matches|SELECT * FROM matches" "events|SELECT * FROM events WHERE event_type LIKE 'match.%'") || exit 1
printf '    COPY of the same %s matches + %s match events: %.2f s; rematch / COPY = %.2f\n' "$ROWS_M" "$ROWS_E" "$COPY_S" "$(echo "$REMATCH_WALL / $COPY_S" | bc -l)"
echo "    load average now $(cut -d' ' -f1-3 /proc/loadavg)"
fi

if step import; then
echo "== import of $IMPORT_FIRMS firms × 3 years (CSV, CLI) into an empty database"
"$BIN" seed --csv "$WORK/import.csv" --firms "$IMPORT_FIRMS" 2> /dev/null
dropdb $PG --if-exists "$IMPORT_DB"; createdb $PG "$IMPORT_DB"
export SRDI_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$IMPORT_DB"
"$BIN" migrate 2> /dev/null
counts() { psql_db "$IMPORT_DB" -c "SELECT relname || ' ' || n_live_tup FROM pg_stat_user_tables ORDER BY relname"; }
psql_db "$IMPORT_DB" -c "ANALYZE"; counts > "$WORK/before"
measure "import $IMPORT_FIRMS firms ($(($(wc -l < "$WORK/import.csv") - 1)) rows)" "$BIN" import "$WORK/import.csv"
IMPORT_WALL=$(cut -d' ' -f1 "$WORK/time")
psql_db "$IMPORT_DB" -c "ANALYZE"; counts > "$WORK/after"
# The tables the import added rows to, each reloaded whole with COPY.
TABLES=$(join "$WORK/before" "$WORK/after" | awk '$3 > $2 && $2 == 0 {print $1}')
SPECS=(); CLEAR=""
# Tables that triggers fill (market-value estimates from firms, the match queue from events) are
# emptied but not reloaded: COPY of their sources fires the same triggers, as the import did.
for t in $TABLES; do
    CLEAR="$CLEAR TRUNCATE $t CASCADE;"
    case $t in market_value_estimates|match_queue) continue ;; esac
    SPECS+=("$t|SELECT * FROM $t")
done
echo "    tables written: $(join "$WORK/before" "$WORK/after" | awk '$3 > $2 && $2 == 0 {printf "%s %s, ", $1, $3}')"
# Referenced tables first, so foreign keys hold while loading.
ORDERED=(); for t in firms; do for s in "${SPECS[@]}"; do [ "${s%%|*}" = "$t" ] && ORDERED+=("$s"); done; done
for s in "${SPECS[@]}"; do [ "${s%%|*}" != firms ] && ORDERED+=("$s"); done
COPY_I=$(copy_seconds "$IMPORT_DB" "$CLEAR" "${ORDERED[@]}") || exit 1
printf '    psql \\copy of the same rows: %.2f s; import / COPY = %.2f\n' "$COPY_I" "$(echo "$IMPORT_WALL / $COPY_I" | bc -l)"

fi
if step bigimport; then
echo "== import of $FIRMS firms × 3 years (CSV, CLI) into an empty database: memory"
export SRDI_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$IMPORT_DB"
"$BIN" seed --csv "$WORK/big.csv" --firms "$FIRMS" 2> /dev/null
dropdb $PG --if-exists "$IMPORT_DB"; createdb $PG "$IMPORT_DB"
"$BIN" migrate 2> /dev/null
measure "import $FIRMS firms ($(($(wc -l < "$WORK/big.csv") - 1)) rows)" "$BIN" import "$WORK/big.csv"
measure "seed --csv, $FIRMS firms" "$BIN" seed --csv "$WORK/big.csv" --firms "$FIRMS"
fi
echo "    load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${KEEP_DB:-0}" != 1 ]; then dropdb $PG --if-exists "$DB"; dropdb $PG --if-exists "$IMPORT_DB"; fi
