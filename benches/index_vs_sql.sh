#!/usr/bin/env bash
# Issue 10's six queries on the UN votes log, answered from the projection index, beside the
# `sqlite3` CLI's own `-json` (indexes on (actor, topic, date), (topic, date) and the issue tags)
# and DuckDB (its own database file, one Python process each, `COPY ... (FORMAT JSON)`): whole
# processes, rounds interleaved, medians with min and max. Each of our queries runs twice:
# `stancelog` with its full rows (about 30 fields, pretty-printed, as every earlier figure) and
# `stancelog_cols` with `--columns` naming the SQL sides' own columns (the same columns: the SQL
# renames its `date` to our `since`, the date as stated, and `id` to `event_id`). Before the
# rounds, the `--columns` answers are checked to be the same rows as both SQL sides' (parsed and
# compared as lists of objects, sorted: our rows are ordered by actor name and topic title,
# the SQL sides' by id); a difference stops the script. Also the import rate with the index
# maintained, and building the index from scratch.
# Usage: benches/index_vs_sql.sh [DATA_DIR] [ROUNDS]   (default ../shared/data, 5 rounds)
# Environment: BIN (default target/release/stancelog, built first); OLD, another release binary
# run beside it with full rows (side `old`), to compare builds in the same rounds.
# Needs: python3 with duckdb and pyarrow (pip install duckdb pyarrow), sqlite3 (apt-get install
# sqlite3), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data}"
rounds="${2:-5}"
mkdir -p target && work="$(mktemp -d "${TMPDIR:-$PWD/target}/bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log="$work/un.jsonl"
sides=benches/sql_sides.py
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/stancelog
fi
bin="$BIN"
old="${OLD:-}"

echo "load before: $(uptime)"
# Runs a command, its output to "$work/LABEL.SIDE.json", appending "label side seconds peak_kb
# cpu_s" to the results: wall time and the process's own CPU (user + system) and peak memory,
# to the microsecond (benches/run1.py; the one-actor queries take 10 to 80 ms).
measure() {
  local label="$1" side="$2"; shift 2
  local took
  took=$(python3 benches/run1.py "$work/$label.$side.json" "$@")
  read -r secs kb user sys <<< "$took"
  awk -v l="$label" -v s="$side" -v t="$secs" -v k="$kb" -v u="$user" -v y="$sys" \
    'BEGIN { printf "%s %s %s %s %.6f\n", l, s, t, k, u + y }' >> "$work/results"
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
# The old build reads a copy of the log, with an index of its own (built in the uncounted first
# round): across an index format change, one index shared by both builds was discarded and
# rebuilt by each in turn, and every query timed a rebuild.
if [ -n "$old" ]; then
  old_log="$work/old.jsonl"
  cp "$log" "$old_log"
fi

# label|our query|our --columns (the SQL sides' columns, by our names)|the SQL sides' query
queries=(
  "actor_positions|positions --actor USA --as-of 2000-12-31|actor,topic,stance,since,seq,event_id|actor_positions USA 2000-12-31"
  "positions|positions --as-of 1991-12-31|actor,topic,stance,since,seq,event_id|positions 1991-12-31"
  "diff|diff --from 1989-12-31 --to 1992-12-31|actor,topic,change,before_stance,before_since,before_seq,after_stance,after_since,after_seq|diff 1989-12-31 1992-12-31"
  "actor_timeline|timeline --actor USA|actor,topic,stance,since,seq,event_id|actor_timeline USA"
  "issue_positions|positions --as-of 1991-12-31 --issue nu|actor,topic,stance,since,seq,event_id|issue_positions 1991-12-31 nu"
  "actors|actors|actor,name,seq,stances|actors"
)
# One round: every query on every side, in a fixed order.
round() {
  for q in "${queries[@]}"; do
    IFS='|' read -r label ours cols theirs <<< "$q"
    # shellcheck disable=SC2086
    measure "$label" stancelog $bin --log "$log" $ours --format json
    # shellcheck disable=SC2086
    measure "$label" stancelog_cols $bin --log "$log" $ours --format json --columns "$cols"
    if [ -n "$old" ]; then
      # shellcheck disable=SC2086
      measure "$label" old "$old" --log "$old_log" $ours --format json
    fi
    # shellcheck disable=SC2086
    measure "$label" sqlite sqlite3 -json "$work/un.sqlite" "$(python3 "$sides" sql $theirs)"
    # shellcheck disable=SC2086
    measure "$label" duckdb python3 "$sides" duckdb "$work/un.duckdb" $theirs
    if [ "${checking:-}" = 1 ]; then
      python3 "$sides" same "$label" "$work/$label.stancelog_cols.json" \
        "$work/$label.sqlite.json" "$work/$label.duckdb.json"
    fi
    rm -f "$work/$label".*.json
  done
}
# A first round, not counted, checks the answers (and warms the page cache).
checking=1 round
: > "$work/results"
checking=0
for _ in $(seq "$rounds"); do round; done
echo "load after: $(uptime)"
python3 benches/medians.py "$work/results" stancelog,stancelog_cols${old:+,old} sqlite duckdb
