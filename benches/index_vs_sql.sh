#!/usr/bin/env bash
# Issue 10's six queries on the UN votes log, answered from the projection index, beside the
# `sqlite3` CLI's own `-json` (indexes on (actor, topic, date), (topic, date) and the issue tags)
# and DuckDB (its own database file, one Python process each, `COPY ... (FORMAT JSON)`): whole
# processes, the same rows as JSON, rounds interleaved, medians with min and max. Also the
# import rate with the index maintained, and building the index from scratch.
# Usage: benches/index_vs_sql.sh [DATA_DIR] [ROUNDS]   (default ../shared/data, 5 rounds)
# Needs: python3 with duckdb and pyarrow (pip install duckdb pyarrow), sqlite3 (apt-get install
# sqlite3), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data}"
rounds="${2:-5}"
mkdir -p target && work="$(mktemp -d "${TMPDIR:-$PWD/target}/bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log="$work/un.jsonl"
bin=target/release/stancelog
sides=benches/sql_sides.py

cargo build --release --quiet
echo "load before: $(uptime)"
# Runs a command, appending "label side seconds peak_kb" to the results: wall time to the
# millisecond (GNU time's %e counts in hundredths, and the one-actor queries take 10 to 80 ms),
# peak memory from GNU time, and its CPU seconds (user + system) to "$work/cpu".
measure() {
  local label="$1" side="$2"; shift 2
  local start end kb user sys
  start=$(date +%s%N)
  /usr/bin/time -f "%M %U %S" -o "$work/time" "$@" > "$work/out.json"
  end=$(date +%s%N)
  read -r kb user sys < "$work/time"
  awk -v l="$label" -v s="$side" -v a="$start" -v b="$end" -v k="$kb" \
    'BEGIN { printf "%s %s %.4f %s\n", l, s, (b - a) / 1e9, k }' >> "$work/results"
  echo "$label $side $user $sys" >> "$work/cpu"
}

$bin --log "$log" init > /dev/null
/usr/bin/time -f "%e %M" -o "$work/time" $bin --log "$log" import unvotes "$data/unvotes" > /dev/null
read -r secs kb < "$work/time"
events=$(($(wc -l < "$log")))
awk -v n="$events" -v s="$secs" -v k="$kb" 'BEGIN { printf "import unvotes, index maintained, durable: %d events in %.2f s = %.0f events/s, %.0f MB peak\n", n, s, n / s, k / 1024 }'
/usr/bin/time -f "%e %M" -o "$work/time" $bin --log "$log" index --rebuild > /dev/null
read -r secs kb < "$work/time"
awk -v n="$events" -v s="$secs" -v k="$kb" 'BEGIN { printf "index from scratch (read and fold the log, write the index): %.2f s = %.0f events/s, %.0f MB peak\n", s, n / s, k / 1024 }'
python3 "$sides" build "$log" "$work/un.sqlite" "$work/un.duckdb"

queries=(
  "actor_positions|positions --actor USA --as-of 2000-12-31|actor_positions USA 2000-12-31"
  "positions|positions --as-of 1991-12-31|positions 1991-12-31"
  "diff|diff --from 1989-12-31 --to 1992-12-31|diff 1989-12-31 1992-12-31"
  "actor_timeline|timeline --actor USA|actor_timeline USA"
  "issue_positions|positions --as-of 1991-12-31 --issue nu|issue_positions 1991-12-31 nu"
  "actors|actors|actors"
)
for round in $(seq "$rounds"); do
  for q in "${queries[@]}"; do
    IFS='|' read -r label ours theirs <<< "$q"
    # shellcheck disable=SC2086
    measure "$label" stancelog $bin --log "$log" $ours --format json
    # shellcheck disable=SC2086
    measure "$label" sqlite sqlite3 -json "$work/un.sqlite" "$(python3 "$sides" sql $theirs)"
    # shellcheck disable=SC2086
    measure "$label" duckdb python3 "$sides" duckdb "$work/un.duckdb" $theirs
  done
done
echo "load after: $(uptime)"
python3 "$(dirname "$0")/medians.py" "$work/results" stancelog sqlite duckdb
echo "CPU seconds (user + system, GNU time's hundredths), median per query and side:"
awk '{ print $1, $2, $3 + $4 }' "$work/cpu" | sort -k1,1 -k2,2 -k3,3n | awk '
  { k = $1 " " $2; v[k, ++n[k]] = $3 }
  END { for (k in n) { m = n[k]; print k, v[k, int((m + 1) / 2)] } }' | sort
