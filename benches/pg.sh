#!/usr/bin/env bash
# Issue 13's PostgreSQL benchmarks, on a throwaway cluster started here (.ci/pg-start, a Unix
# socket, synchronous commit) on this machine's disk:
#  1. single-event appends to a PostgreSQL log beside two bare loops of the same rows, a
#     BEGIN; INSERT; COMMIT loop and an autocommit prepared INSERT, taking turns every 50
#     appends (benches/append.rs with STANCELOG_PG_BENCH; the ratio is to the faster loop,
#     target >= 0.8); durable, then again with the cluster reloaded with fsync off;
#  2. the UN votes import into PostgreSQL, beside the same import into a file log and a bare
#     `psql \copy` of the same rows (timed once, after the rounds; target >= 150,000 events/s);
#  3. issue 10's six queries on the PostgreSQL log beside the file log with its projection
#     index (target: within 2x), whole processes, rounds interleaved, medians with min and max.
# Usage: benches/pg.sh [DATA_DIR] [ROUNDS] [PARTS]   (default ../shared/data, 5 rounds, parts
# 123; part 3 needs part 2's file log, so "23" skips only the appends)
# Needs: Debian's postgresql (as .ci/run installs it), GNU time. Run as root or as a user that
# may run initdb; about 2 GB of disk in $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data}"
rounds="${2:-5}"
parts="${3:-123}"
mkdir -p target && work="$(mktemp -d "${TMPDIR:-$PWD/target}/bench.XXXXXX")"
# Its own folder right under /tmp: the server runs as the postgres user, who must reach it.
pgdir="$(mktemp -d /tmp/stancelog-pg.XXXXXX)"
trap '.ci/pg-stop "$pgdir"; rm -rf "$work"' EXIT
server="$(.ci/pg-start "$pgdir")"
bin=target/release/stancelog
cargo build --release --quiet
echo "load before: $(uptime)"

if [[ $parts == *1* ]]; then
  echo "== 1. single-event appends (durable: fsync on, synchronous commit)"
  STANCELOG_PG_BENCH="$server" cargo bench --quiet --bench append
  # With the flush taken out, what is left of an append shows: both sides alike, the cluster
  # reloaded with fsync off for this run only.
  echo "== 1b. single-event appends, fsync off"
  psql -X -q "$server" -c "ALTER SYSTEM SET fsync = off" -c "SELECT pg_reload_conf()" >/dev/null
  STANCELOG_PG_BENCH="$server" cargo bench --quiet --bench append
  psql -X -q "$server" -c "ALTER SYSTEM RESET fsync" -c "SELECT pg_reload_conf()" >/dev/null
  echo "load after part 1: $(uptime)"
fi
[[ $parts == *2* ]] || exit 0

echo "== 2. UN votes import"
sql() { psql -X -q -tA "$server" -c "$1"; }
for round in 1 2; do
  sql "DROP DATABASE IF EXISTS un" >/dev/null
  sql "CREATE DATABASE un" >/dev/null
  $bin --log "$server dbname=un" init >/dev/null
  /usr/bin/time -f "%e %M" -o "$work/time" \
    $bin --log "$server dbname=un" import unvotes "$data/unvotes" >/dev/null
  read -r secs kb < "$work/time"
  events=$(psql -X -tA "$server dbname=un" -c "SELECT count(*) FROM stancelog.records")
  awk -v n="$events" -v s="$secs" -v k="$kb" -v r="$round" 'BEGIN { printf "round %d, import unvotes into PostgreSQL: %d events in %.2f s = %.0f events/s, %.0f MB peak\n", r, n, s, n / s, k / 1024 }'
  rm -rf "$work/un.jsonl" "$work/un.jsonl.index"
  $bin --log "$work/un.jsonl" init >/dev/null
  /usr/bin/time -f "%e %M" -o "$work/time" \
    $bin --log "$work/un.jsonl" import unvotes "$data/unvotes" >/dev/null
  read -r secs kb < "$work/time"
  awk -v n="$events" -v s="$secs" -v k="$kb" -v r="$round" 'BEGIN { printf "round %d, import unvotes into a file log (index maintained): %.2f s = %.0f events/s, %.0f MB peak\n", r, s, n / s, k / 1024 }'
done
echo "PostgreSQL database size: $(sql "SELECT pg_size_pretty(pg_database_size('un'))")"
# The baseline a user would pick instead: psql's own \copy of the same rows (the last round's,
# as stored) into a table of the same columns and keys, without stancelog; in text (what a
# user would write by hand) and in binary (what stancelog sends, at its best).
psql -X -q "$server dbname=un" -c "\copy (SELECT seq, id, hash, line FROM stancelog.records ORDER BY seq) TO '$work/rows.tsv'"
psql -X -q "$server dbname=un" -c "\copy (SELECT seq, id, hash, line FROM stancelog.records ORDER BY seq) TO '$work/rows.bin' WITH (FORMAT binary)"
sql "DROP DATABASE un" >/dev/null
for format in text binary; do
  sql "CREATE DATABASE bare" >/dev/null
  psql -X -q "$server dbname=bare" -c "CREATE TABLE records (seq bigint PRIMARY KEY, id uuid NOT NULL, hash text, line text NOT NULL)"
  if [[ $format == text ]]; then from="'$work/rows.tsv'"; else from="'$work/rows.bin' WITH (FORMAT binary)"; fi
  /usr/bin/time -f "%e %M" -o "$work/time" psql -X -q "$server dbname=bare" -c "\copy records FROM $from"
  read -r secs kb < "$work/time"
  awk -v n="$events" -v s="$secs" -v f="$format" 'BEGIN { printf "bare psql \\copy (%s) of the same rows: %.2f s = %.0f events/s\n", f, s, n / s }'
  sql "DROP DATABASE bare" >/dev/null
done
rm -f "$work/rows.tsv" "$work/rows.bin"
# The queries compare answers byte for byte, so both sides hold the same records (the same
# recorded times): the file log copied into a new database.
sql "CREATE DATABASE same" >/dev/null
$bin --log "$server dbname=same" init >/dev/null
/usr/bin/time -f "%e %M" -o "$work/time" \
  $bin copy --from "$work/un.jsonl" --to "$server dbname=same" >/dev/null
read -r secs kb < "$work/time"
awk -v n="$events" -v s="$secs" 'BEGIN { printf "copy of the file log into PostgreSQL: %.2f s = %.0f events/s\n", s, n / s }'

[[ $parts == *3* ]] || exit 0
echo "== 3. the six queries"
# The PostgreSQL log's projection index is a cache folder on this machine; the first query
# builds it (reading the whole table), as the import built the file log's.
export STANCELOG_CACHE="$work/cache"
/usr/bin/time -f "%e %M" -o "$work/time" $bin --log "$server dbname=same" index >/dev/null
read -r secs kb < "$work/time"
awk -v s="$secs" -v k="$kb" 'BEGIN { printf "the PostgreSQL log'"'"'s index built by a first query: %.2f s, %.0f MB peak\n", s, k / 1024 }'
queries=(
  "actor_positions|positions --actor USA --as-of 2000-12-31"
  "positions|positions --as-of 1991-12-31"
  "diff|diff --from 1989-12-31 --to 1992-12-31"
  "actor_timeline|timeline --actor USA"
  "issue_positions|positions --as-of 1991-12-31 --issue nu"
  "actors|actors"
)
# Wall time to the millisecond (GNU time's %e counts in hundredths: the small queries take
# 10 to 80 ms), peak memory from GNU time.
measure() {
  local label="$1" side="$2" log="$3"; shift 3
  local start end kb
  start=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$work/time" $bin --log "$log" "$@" --format json > "$work/$side.json"
  end=$(date +%s%N)
  read -r kb < "$work/time"
  awk -v l="$label" -v s="$side" -v a="$start" -v b="$end" -v k="$kb" \
    'BEGIN { printf "%s %s %.4f %s\n", l, s, (b - a) / 1e9, k }' >> "$work/results"
}
for round in $(seq "$rounds"); do
  for q in "${queries[@]}"; do
    IFS='|' read -r label args <<< "$q"
    # shellcheck disable=SC2086
    measure "$label" file "$work/un.jsonl" $args
    # shellcheck disable=SC2086
    measure "$label" postgres "$server dbname=same" $args
    cmp -s "$work/file.json" "$work/postgres.json" || { echo "$label: answers differ" >&2; exit 1; }
  done
done
echo "load after: $(uptime)"
python3 "$(dirname "$0")/medians.py" "$work/results" postgres file
