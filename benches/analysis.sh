#!/usr/bin/env bash
# Issue 11's targets on the real UN votes (870k votes, 200 states, 75 years), one run on this
# machine, the sides interleaved round by round, medians of three rounds:
#   - `agreement --all --by year --format csv` (every pair of states, every year: 834k rows) as a
#     whole process on the imported log, beside the same computation in DuckDB (a self-join on the
#     roll call, one query, from the CSV files) and in pandas (a merge on the roll call, year by
#     year), each writing the same rows to a CSV file; the outputs are checked to agree (row
#     counts and sums of every measure); peak memory of each (target for stancelog < 200 MB);
#   - `report` for five states (with two pairs drawn year by year) as a whole process (target
#     < 2 s). Both answer from the projection index: the report reads only the five states'
#     stances, agreement --all every stance (its selection is the whole log).
# Wall times depend on the machine's load (printed before and after); CPU time (user + sys) is
# printed too and varies less.
# Usage: benches/analysis.sh [DATA_DIR]   (default ../shared/data; needs python3 with duckdb and
# pandas: `pip install duckdb pandas`)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data}"
mkdir -p target && work="$(mktemp -d "${TMPDIR:-$PWD/target}/bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log="$work/un.jsonl"
bin=target/release/stancelog

python3 -c 'import duckdb, pandas' 2>/dev/null || pip install --quiet duckdb pandas
cargo build --release --quiet
$bin --log "$log" init > /dev/null
$bin --log "$log" import unvotes "$data/unvotes" > /dev/null

# Runs a command, recording its wall time, CPU time and peak memory (GNU time) under a label.
measure() {
  local label="$1"; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" > /dev/null 2> "$work/err" || {
    cat "$work/err" >&2
    exit 1
  }
  read -r secs user sys kb < "$work/time"
  echo "$label $secs $user $sys $kb" >> "$work/results"
  awk -v l="$label" -v s="$secs" -v u="$user" -v y="$sys" -v k="$kb" \
    'BEGIN { printf "%-34s %7.2f s wall %7.2f s cpu %8.1f MB peak\n", l, s, u + y, k / 1024 }'
}

echo "load before: $(uptime)"
: > "$work/results"
for round in 1 2 3; do
  echo "-- round $round"
  measure "stancelog agreement" $bin --log "$log" agreement --all --by year --format csv
  $bin --log "$log" agreement --all --by year --format csv > "$work/stancelog.csv"
  measure "duckdb self-join" python3 benches/agreement_side.py duckdb "$data/unvotes" "$work/duckdb.csv"
  measure "pandas merge" python3 benches/agreement_side.py pandas "$data/unvotes" "$work/pandas.csv"
  measure "stancelog report (5 states)" $bin --log "$log" report --out "$work/r.html" \
    --actor USA --actor RUS --actor CHN --actor FRA --actor IND --pair USA,RUS --pair USA,CHN
done
echo "load after: $(uptime)"

echo "== the same rows on every side (rows, then the sum of each measure)"
python3 benches/agreement_side.py check "$work/stancelog.csv" "$work/duckdb.csv" "$work/pandas.csv" |
  sed "s|$work/||"

echo "== medians of three rounds"
python3 - "$work/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    *label, wall, user, sys_, kb = line.split()
    rows.setdefault(" ".join(label), []).append((float(wall), float(user) + float(sys_), int(kb)))
for label, runs in rows.items():
    walls = [r[0] for r in runs]
    print(f"{label:34} {statistics.median(walls):7.2f} s wall (range {min(walls):.2f}-{max(walls):.2f})"
          f" {statistics.median(r[1] for r in runs):7.2f} s cpu"
          f" {max(r[2] for r in runs) / 1024:8.1f} MB peak")
PY
