#!/usr/bin/env bash
# Import speed of the CLI, two release binaries interleaved (the build before and this one):
#   - `import csv` of a generated sheet of ROWS stance rows (5,000 actors, 20,000 topics;
#     `benches/import_sheet.rs`'s generator, `GENERATE=DIR`), into a new log;
#   - `import gdelt` of ROWS generated GDELT 1.0 rows, into a new log;
#   - `import plover` of ROWS generated PLOVER records (200 actors of ten countries, the 16
#     event types; the generator beside the others), into a new log;
#   - `import unvotes` of the real UN votes (876,512 events), into a new log;
#   - `import icews` of the ICEWS sample (3,705 rows) repeated ICEWS_COPIES times, each copy's
#     dates moved to another year (so every row is a new event), into a new log.
# Each import is durable, with the projection index kept; each run is a whole process, timed by
# GNU time: wall seconds, CPU seconds (user + system, all threads), peak resident memory; the
# load (`uptime`) is printed before each round. One line per run, then medians per binary.
# Usage: benches/imports.sh OLD_BINARY NEW_BINARY [DATA_DIR]
#   ROWS (default 4000000), ROUNDS (default 2), ONLY (csv|gdelt|plover|unvotes|icews, default
#   all),
#   ICEWS_COPIES (default 100). Generated files and logs go to target/bench-imports, removed
#   after (the 4M-row GDELT log is about 2.2 GB: check the disk first); a sheet.csv,
#   events.tsv and plover.tsv already there (links to files made before) are used as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
old="$(realpath "$1")"
new="$(realpath "$2")"
data="$(realpath "${3:-../shared/data}")"
rows="${ROWS:-4000000}"
rounds="${ROUNDS:-2}"
only="${ONLY:-}"
copies="${ICEWS_COPIES:-100}"
work="$PWD/target/bench-imports"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
wants() { [ -z "$only" ] || [ "$only" = "$1" ]; }

if (wants csv || wants gdelt || wants plover) \
  && ! [ -s "$work/sheet.csv" -a -s "$work/events.tsv" -a -s "$work/plover.tsv" ]; then
  GENERATE="$work" ROWS="$rows" cargo bench --quiet --bench import_sheet > /dev/null
fi
if wants icews; then
  sample="$data/icews-sample/events.2018.sample.tab"
  head -1 "$sample" > "$work/icews.tab"
  for ((k = 0; k < copies; k++)); do
    # Column 2 is the event date, YYYY-MM-DD: year 2018 becomes 1900 + k.
    awk -F'\t' -v OFS='\t' -v y=$((1900 + k)) 'NR > 1 { $2 = y substr($2, 5); print }' "$sample"
  done >> "$work/icews.tab"
fi
cat > "$work/sheet.toml" <<'EOF'
actor-col = "actor"
topic-col = "topic"
stance-col = "stance"
date-col = "date"
register = true
actor-country = "XXX"
dataset = "bench"
EOF

# run LABEL BIN ARGS...: one import into a new log; prints label, events, wall, CPU, peak.
run() {
  local label="$1" bin="$2"; shift 2
  local log="$work/log.jsonl"
  rm -rf "$log" "$log.index" "$log.writer"
  "$bin" --log "$log" init > /dev/null
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" --log "$log" "$@" -q > /dev/null
  local events
  events=$(wc -l < "$log")
  read -r wall user sys kb < "$work/time"
  awk -v l="$label" -v n="$events" -v w="$wall" -v u="$user" -v s="$sys" -v k="$kb" \
    'BEGIN { printf "%-14s %9d events %7.2f s %7.2f CPU s %6.0f MB %9.0f events/s\n", l, n, w, u + s, k / 1024, n / w }' \
    | tee -a "$work/results"
  rm -rf "$log" "$log.index" "$log.writer"
}

for ((round = 1; round <= rounds; round++)); do
  echo "-- round $round: $(uptime)"
  for side in old new; do
    bin=$old; [ "$side" = new ] && bin=$new
    if wants csv; then run "$side csv" "$bin" import csv "$work/sheet.csv" --mapping "$work/sheet.toml"; fi
    if wants gdelt; then run "$side gdelt" "$bin" import gdelt "$work/events.tsv"; fi
    if wants plover; then run "$side plover" "$bin" import plover "$work/plover.tsv"; fi
    if wants unvotes; then run "$side unvotes" "$bin" import unvotes "$data/unvotes"; fi
    if wants icews; then run "$side icews" "$bin" import icews "$work/icews.tab"; fi
  done
done
echo "-- after: $(uptime)"
echo "== medians (range) per binary and import: wall s, CPU s, peak MB, events/s"
python3 - "$work/results" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    runs.setdefault((f[0], f[1]), []).append((float(f[4]), float(f[6]), float(f[9]), float(f[11])))
for (side, what), v in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0] != "old")):
    cols = []
    for i, unit in enumerate(["s", "CPU s", "MB", "events/s"]):
        xs = [r[i] for r in v]
        fmt = "{:.0f}" if i >= 2 else "{:.2f}"
        cols.append(f"{fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}-{fmt.format(max(xs))}) {unit}")
    print(f"{side:4} {what:8} {len(v)} run(s): " + ", ".join(cols))
EOF
