#!/usr/bin/env bash
# Issue 10's scaling targets on generated logs (benches/gen_stances.rs: 5,000 actors, 20,000
# topics, dates over 35 years, a fifth with quotes, some corrections and retractions), for each
# size given (stances): the one-actor query (positions and timeline) from the index, time and
# peak memory; a one-event append, time and peak memory; building the index from scratch.
# Medians of 3 runs. Usage: benches/scaling.sh [DIR] [SIZES...]  (default: a temporary folder,
# 1000000 4000000). A 16M log takes about 12 GB of disk with its index.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-}"
shift || true
sizes=("${@:-1000000 4000000}")
if [ -z "$dir" ]; then
  mkdir -p target && dir="$(mktemp -d "${TMPDIR:-$PWD/target}/bench.XXXXXX")"
  trap 'rm -rf "$dir"' EXIT
fi
bin=target/release/stancelog
cargo build --release --quiet
cargo bench --quiet --bench gen_stances --no-run 2>/dev/null || true
echo "load before: $(uptime)"
# Median wall time and the largest peak memory of 3 runs of a command.
median3() {
  local label="$1"; shift
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$dir/time" "$@" > /dev/null
    cat "$dir/time"
  done | sort -n | awk -v l="$label" 'NR == 2 { s = $1 } { if ($2 > m) m = $2 } END { printf "  %-34s %7.3f s (median of 3)  %6.0f MB peak\n", l, s, m / 1024 }'
}
for n in ${sizes[*]}; do
  log="$dir/gen-$n.jsonl"
  rm -rf "$log" "$log.index" "$log.writer"
  echo "== $n stances"
  cargo bench --quiet --bench gen_stances -- "$log" "$n"
  du -sh "$log" "$log.index" | sed 's/^/  /'
  median3 "positions --actor a0042" $bin --log "$log" positions --actor a0042 --format json
  median3 "timeline --actor a0042" $bin --log "$log" timeline --actor a0042 --format json
  for k in 1 2 3; do
    echo "{\"type\":\"stance.declared\",\"actor\":\"a0042\",\"topic\":\"t00042\",\"stance\":\"support\",\"date\":\"2025-01-0$k\",\"cite\":{\"publication\":\"bench\"}}" > "$dir/one-$k.jsonl"
  done
  for k in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$dir/time" $bin --log "$log" append "$dir/one-$k.jsonl" > /dev/null
    awk -v k="$k" '{ printf "  one-event append %d                  %7.3f s  %6.0f MB peak\n", k, $1, $2 / 1024 }' "$dir/time"
  done
  events=$(($(wc -l < "$log")))
  /usr/bin/time -f "%e %M" -o "$dir/time" $bin --log "$log" index --rebuild > /dev/null
  awk -v n="$events" '{ printf "  index from scratch                 %7.2f s = %.0f events/s  %6.0f MB peak\n", $1, n / $1, $2 / 1024 }' "$dir/time"
  median3 "positions --actor a0042 (rebuilt)" $bin --log "$log" positions --actor a0042 --format json
  echo "  load: $(uptime)"
  # Each size's log is removed once measured (a 16M log and its index are about 12 GB).
  rm -rf "$log" "$log.index" "$log.writer"
done
echo "load after: $(uptime)"
