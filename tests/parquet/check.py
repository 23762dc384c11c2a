"""Reads a stancelog Parquet export back with DuckDB, pyarrow and pandas, and checks that
(1) every column has the type docs/output.md gives its kind, in each reader, and
(2) every value equals the JSON output of the same query (NDJSON, flattened by the rule of
docs/output.md).

Usage: check.py FILE.parquet FILE.ndjson KINDS.json
KINDS.json maps each column name to its kind (text, dict, int8, int64, bool, date, timestamp,
text_list, int_list), in column order. Exits 1 naming the first difference.
"""
import datetime as dt
import json
import sys

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DUCKDB = {
    "text": "VARCHAR", "dict": "VARCHAR", "int8": "TINYINT", "int64": "BIGINT",
    "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP WITH TIME ZONE",
    "text_list": "VARCHAR[]", "int_list": "BIGINT[]",
}
ARROW = {
    "text": pa.string(), "dict": pa.dictionary(pa.int32(), pa.string()), "int8": pa.int8(),
    "int64": pa.int64(), "bool": pa.bool_(), "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"), "text_list": pa.list_(pa.string()),
    "int_list": pa.list_(pa.int64()),
}
# pandas dtypes with the default (NumPy) backend; int columns with nulls become float64, so
# only columns without nulls are checked for their integer dtype.
PANDAS = {
    "dict": {"category"}, "timestamp": {"datetime64[us, UTC]"}, "int8": {"int8"},
    "int64": {"int64"}, "text": {"object", "str"}, "date": {"object"}, "bool": {"bool", "object"},
}


def fail(msg):
    print(f"check.py: {msg}", file=sys.stderr)
    sys.exit(1)


def flatten(prefix, obj, into):
    for k, v in obj.items():
        name = prefix + k
        if isinstance(v, dict):
            flatten(name + "_", v, into)
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                for f, x in item.items():
                    if isinstance(x, list):
                        x = ",".join(x)
                    into.setdefault(f"{name}_{f}", []).append(x)
        else:
            into[name] = v
    return into


def plain(v):
    """A value read from Parquet, as JSON gives it."""
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def main():
    parquet, ndjson, kinds_path = sys.argv[1:4]
    with open(kinds_path) as f:
        kinds = json.load(f)
    names = [k for k, _ in kinds]
    kinds = dict(kinds)
    with open(ndjson) as f:
        expected = [flatten("", json.loads(line), {}) for line in f]

    # DuckDB: the types, and the values.
    con = duckdb.connect()
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')").fetchall()
    if [d[0] for d in described] != names:
        fail(f"DuckDB columns {[d[0] for d in described]} != {names}")
    for name, typ, *_ in described:
        if typ != DUCKDB[kinds[name]]:
            fail(f"DuckDB types `{name}` as {typ}, expected {DUCKDB[kinds[name]]}")
    con.execute("SET TimeZone = 'UTC'")
    rows = con.execute(f"SELECT * FROM read_parquet('{parquet}')").fetchall()
    check_values("DuckDB", names, [dict(zip(names, r)) for r in rows], expected)

    # pyarrow: the schema, and the values.
    table = pq.read_table(parquet)
    for field in table.schema:
        want = ARROW[kinds[field.name]]
        if not field.type.equals(want):
            fail(f"pyarrow types `{field.name}` as {field.type}, expected {want}")
    meta = pq.read_metadata(parquet).metadata or {}
    if meta.get(b"stancelog.output_version") != b"1":
        fail(f"no stancelog.output_version 1 in the file metadata: {meta}")
    check_values("pyarrow", names, table.to_pylist(), expected)

    # pandas: the dtypes an analyst gets from read_parquet.
    df = pd.read_parquet(parquet)
    for name in names:
        want = PANDAS.get(kinds[name])
        if want is None or (kinds[name] in ("int8", "int64") and df[name].isna().any()):
            continue
        if str(df[name].dtype) not in want:
            fail(f"pandas reads `{name}` as {df[name].dtype}, expected {want}")
    dates = [n for n in names if kinds[n] == "date"]
    for name in dates:
        if not all(isinstance(v, dt.date) for v in df[name].dropna()):
            fail(f"pandas reads `{name}` as {set(type(v) for v in df[name])}, not dates")
    print(f"check.py: {parquet}: {len(rows)} rows, {len(names)} columns: types and values ok")


def check_values(reader, names, got, expected):
    if len(got) != len(expected):
        fail(f"{reader}: {len(got)} rows, JSON has {len(expected)}")
    for i, (row, want) in enumerate(zip(got, expected)):
        for name in names:
            g = plain(row[name])
            w = want.get(name)
            if w == [] and g is None:
                continue
            if name not in want and g in (None, []):
                continue  # an absent object's or empty object list's columns
            if g != w:
                fail(f"{reader}: row {i + 1}, `{name}`: Parquet has {g!r}, JSON {w!r}")


main()
