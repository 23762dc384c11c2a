#!/usr/bin/env bash
# Issue 10's scaling targets on generated logs (benches/gen_stances.rs: 5,000 actors, 20,000
# topics, dates over 35 years, a fifth with quotes, some corrections and retractions), for each
# size given (stances): the one-actor query (positions and timeline) from the index, time and
# peak memory; a one-event append, time and peak memory; building the index from scratch.
# Queries and appends are timed to the microsecond (benches/run1.py: wall time from fork to
# exit, the process's own CPU and peak), RUNS runs each (default 7), reported as the median with
# the range; at the end, each size's medians as a ratio to the first size's (the target: the
# one-actor query and the append at 16M within 2x of 1M). Usage: benches/scaling.sh [DIR]
# [SIZES...]  (default: a temporary folder, 1000000 4000000). A 16M log takes about 12 GB of
# disk with its index. Environment: BIN (default target/release/stancelog, built first).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-}"
shift || true
sizes=("${@:-1000000 4000000}")
if [ -z "$dir" ]; then
  mkdir -p target && dir="$(mktemp -d "${TMPDIR:-$PWD/target}/bench.XXXXXX")"
  trap 'rm -rf "$dir"' EXIT
fi
runs="${RUNS:-7}"
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/stancelog
fi
bin="$BIN"
cargo bench --quiet --bench gen_stances --no-run 2>/dev/null || true
: > "$dir/medians"
echo "load before: $(uptime)"
# Runs a command RUNS times (benches/run1.py), prints its median wall time with the range, the
# median CPU (user + system) and the largest peak, and files the medians under "SIZE|LABEL" in
# "$dir/medians" for the ratios at the end. An argument's "@K@" becomes the run's number (the
# appends: a new event each run).
timed() {
  local n="$1" label="$2"; shift 2
  for k in $(seq "$runs"); do
    python3 benches/run1.py /dev/null "${@//@K@/$k}"
  done > "$dir/runs"
  local wall cpu peak med lo hi count
  wall=$(awk '{ print $1 }' "$dir/runs" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR], NR }')
  cpu=$(awk '{ printf "%.6f\n", $3 + $4 }' "$dir/runs" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  peak=$(awk '$2 > m { m = $2 } END { print m }' "$dir/runs")
  read -r med lo hi count <<< "$wall"
  awk -v l="$label" -v w="$med" -v lo="$lo" -v hi="$hi" -v c="$count" -v cpu="$cpu" -v m="$peak" \
    'BEGIN { printf "  %-34s %8.4f s (%.4f-%.4f, median of %d)  CPU %.4f s  %4.0f MB peak\n", l, w, lo, hi, c, cpu, m / 1024 }'
  echo "$n|$label|$med|$cpu" >> "$dir/medians"
}
for n in ${sizes[*]}; do
  log="$dir/gen-$n.jsonl"
  rm -rf "$log" "$log.index" "$log.writer"
  echo "== $n stances"
  cargo bench --quiet --bench gen_stances -- "$log" "$n"
  du -sh "$log" "$log.index" | sed 's/^/  /'
  timed "$n" "positions --actor a0042" $bin --log "$log" positions --actor a0042 --format json
  timed "$n" "timeline --actor a0042" $bin --log "$log" timeline --actor a0042 --format json
  for k in $(seq "$runs"); do
    echo "{\"type\":\"stance.declared\",\"actor\":\"a0042\",\"topic\":\"t00042\",\"stance\":\"support\",\"date\":\"2025-01-$(printf %02d "$k")\",\"cite\":{\"publication\":\"bench\"}}" > "$dir/one-$k.jsonl"
  done
  timed "$n" "one-event append" $bin --log "$log" append "$dir/one-@K@.jsonl"
  events=$(($(wc -l < "$log")))
  /usr/bin/time -f "%e %M" -o "$dir/time" $bin --log "$log" index --rebuild > /dev/null
  awk -v n="$events" '{ printf "  index from scratch                 %7.2f s = %.0f events/s  %6.0f MB peak\n", $1, n / $1, $2 / 1024 }' "$dir/time"
  timed "$n" "positions --actor a0042 (rebuilt)" $bin --log "$log" positions --actor a0042 --format json
  echo "  load: $(uptime)"
  # Each size's log is removed once measured (a 16M log and its index are about 12 GB).
  rm -rf "$log" "$log.index" "$log.writer"
done
echo "load after: $(uptime)"
echo "== medians as a ratio to ${sizes[0]} stances' (wall, CPU)"
awk -F'|' '
  !($2 in base) { base[$2] = $3; cbase[$2] = $4 }
  { printf "  %-9s %-34s %5.2fx wall  %5.2fx CPU\n", $1, $2, $3 / base[$2], $4 / cbase[$2] }
' "$dir/medians"
