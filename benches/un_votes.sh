#!/usr/bin/env bash
# Issue 5's targets on the real UN votes (870k events), as numbers from one run on this machine:
#   - import of all votes, durable: events/s (target >= 200,000) and peak memory;
#   - full replay vs bare serde_json parsing of the same file (target ratio >= 0.8);
#   - `positions --as-of 1991-12-31 --format json` and `diff --from 1989-12-31 --to 1992-12-31`
#     as whole processes, from the projection index, beside SQLite answering the same question
#     over the same rows with an index (python3's sqlite3);
#   - peak memory of each query (target < 150 MB).
# Usage: benches/un_votes.sh [DATA_DIR]   (default ../shared/data; needs python3)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data}"
mkdir -p target && work="$(mktemp -d "${TMPDIR:-$PWD/target}/bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log="$work/un.jsonl"
bin=target/release/stancelog

cargo build --release --quiet
# Runs a command, printing its wall time and peak memory (GNU time's maximum resident set size).
measure() {
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null
  read -r secs kb < "$work/time"
  awk -v l="$label" -v s="$secs" -v k="$kb" 'BEGIN { printf "%-44s %7.2f s  %7.1f MB peak\n", l, s, k / 1024 }'
  echo "$secs" > "$work/last"
}

echo "== import"
$bin --log "$log" init > /dev/null
measure "import unvotes" $bin --log "$log" import unvotes "$data/unvotes"
events=$(($(wc -l < "$log")))
secs=$(cat "$work/last")
awk -v n="$events" -v s="$secs" 'BEGIN { printf "imported %d events: %.0f events/s (target >= 200000)\n", n, n / s }'

echo "== replay"
STANCELOG_BENCH_LOG="$log" cargo bench --quiet --bench replay_real 2>/dev/null | grep -v '^$' || true

echo "== queries (whole processes)"
python3 benches/sqlite_side.py build "$log" "$work/un.db"
for round in 1 2; do
  echo "-- round $round"
  measure "stancelog positions (index)" $bin --log "$log" positions --as-of 1991-12-31 --format json
  measure "stancelog diff (index)" $bin --log "$log" diff --from 1989-12-31 --to 1992-12-31 --format json
  measure "sqlite positions (window function, index)" python3 benches/sqlite_side.py positions "$work/un.db" 1991-12-31
  measure "sqlite diff (window function, index)" python3 benches/sqlite_side.py diff "$work/un.db" 1989-12-31 1992-12-31
done
