#!/usr/bin/env python3
"""The other side of benches/analysis.sh: agreement of every pair of states per year over the UN
votes, computed as an analyst would without stancelog, from the same CSV files stancelog imports
(unvotes.csv, roll_calls.csv).

    agreement_side.py duckdb DATA_DIR OUT.csv   # DuckDB: a self-join on the roll call, one query
    agreement_side.py pandas DATA_DIR OUT.csv   # pandas: a merge on the roll call, year by year
    agreement_side.py check A.csv B.csv ...     # row counts and sums of each measure, to compare

Each writes one CSV row per (year, pair) with common, agree, agree_voeten, s, pi, kappa (the
formulas of stancelog's src/core/measures.rs: votes on the scale yes +1, abstain 0, no -1), and
prints the time it took (loading the CSV, then computing and writing) on standard error.
A state is its alpha-2 code, or its name where the code is empty (three states), so pairs are
the same as stancelog's (whose ids are alpha-3).
"""
import sys
import time

QUERY = """
WITH v AS (
  SELECT u.rcid,
         COALESCE(NULLIF(u.country_code, ''), u.country) AS c,
         CASE u.vote WHEN 'yes' THEN 1 WHEN 'abstain' THEN 0 ELSE -1 END AS x,
         year(r.date) AS y
  FROM unvotes u JOIN roll_calls r USING (rcid)
),
t AS (
  SELECT a.y, a.c AS a, b.c AS b, count(*) AS n,
         sum(CASE WHEN a.x = b.x THEN 1 ELSE 0 END) AS same,
         sum(abs(a.x - b.x)) AS dist,
         sum(CASE WHEN a.x = 1 THEN 1 ELSE 0 END) AS a1, sum(CASE WHEN a.x = 0 THEN 1 ELSE 0 END) AS a0,
         sum(CASE WHEN a.x = -1 THEN 1 ELSE 0 END) AS am,
         sum(CASE WHEN b.x = 1 THEN 1 ELSE 0 END) AS b1, sum(CASE WHEN b.x = 0 THEN 1 ELSE 0 END) AS b0,
         sum(CASE WHEN b.x = -1 THEN 1 ELSE 0 END) AS bm
  FROM v a JOIN v b ON a.rcid = b.rcid AND a.c < b.c
  GROUP BY a.y, a.c, b.c
),
p AS (
  SELECT *, same / n AS po,
         (a1 * b1 + a0 * b0 + am * bm) / (n * n) AS pe_k,
         ((a1 + b1) * (a1 + b1) + (a0 + b0) * (a0 + b0) + (am + bm) * (am + bm)) / (4.0 * n * n) AS pe_p
  FROM t
)
SELECT y AS period, a AS actor_a, b AS actor_b, n AS common, same / n AS agree,
       1 - dist / n / 2 AS agree_voeten, 1 - 2 * (dist / n) / 2 AS s,
       CASE WHEN pe_p < 1 THEN (po - pe_p) / (1 - pe_p) END AS pi,
       CASE WHEN pe_k < 1 THEN (po - pe_k) / (1 - pe_k) END AS kappa
FROM p ORDER BY y, a, b
"""


def duckdb_side(data, out):
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE unvotes AS SELECT * FROM read_csv('{data}/unvotes.csv', header = true, all_varchar = true)")
    con.execute(
        f"CREATE TABLE roll_calls AS SELECT rcid, CAST(date AS DATE) AS date FROM read_csv('{data}/roll_calls.csv', header = true, all_varchar = true)"
    )
    t1 = time.perf_counter()
    con.execute(f"COPY ({QUERY}) TO '{out}' (FORMAT CSV, HEADER)")
    t2 = time.perf_counter()
    print(f"duckdb: load {t1 - t0:.2f} s, query + write {t2 - t1:.2f} s", file=sys.stderr)


def pandas_side(data, out):
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    votes = pd.read_csv(f"{data}/unvotes.csv", keep_default_na=False, dtype=str)
    calls = pd.read_csv(f"{data}/roll_calls.csv", keep_default_na=False, dtype=str)
    t1 = time.perf_counter()
    votes["c"] = np.where(votes["country_code"] == "", votes["country"], votes["country_code"])
    votes["x"] = votes["vote"].map({"yes": 1, "abstain": 0, "no": -1}).astype("int8")
    calls["y"] = calls["date"].str[:4].astype(int)
    v = votes[["rcid", "c", "x"]].merge(calls[["rcid", "y"]], on="rcid")
    parts = []
    # Year by year, so the self-join (a million pairs a year) fits in memory.
    for year, g in v.groupby("y", sort=True):
        m = g.merge(g, on="rcid", suffixes=("_a", "_b"))
        m = m[m["c_a"] < m["c_b"]]
        d = pd.DataFrame(
            {
                "a": m["c_a"],
                "b": m["c_b"],
                "same": (m["x_a"] == m["x_b"]).astype(int),
                "dist": (m["x_a"].astype(int) - m["x_b"].astype(int)).abs(),
            }
        )
        for k, name in ((1, "1"), (0, "0"), (-1, "m")):
            d["a" + name] = (m["x_a"] == k).astype(int)
            d["b" + name] = (m["x_b"] == k).astype(int)
        s = d.groupby(["a", "b"], sort=True).agg(
            n=("same", "size"), same=("same", "sum"), dist=("dist", "sum"),
            a1=("a1", "sum"), a0=("a0", "sum"), am=("am", "sum"),
            b1=("b1", "sum"), b0=("b0", "sum"), bm=("bm", "sum"),
        ).reset_index()
        s.insert(0, "period", year)
        parts.append(s)
    t = pd.concat(parts, ignore_index=True)
    n = t["n"].astype(float)
    po = t["same"] / n
    pe_k = (t["a1"] * t["b1"] + t["a0"] * t["b0"] + t["am"] * t["bm"]) / (n * n)
    pe_p = ((t["a1"] + t["b1"]) ** 2 + (t["a0"] + t["b0"]) ** 2 + (t["am"] + t["bm"]) ** 2) / (4 * n * n)
    res = pd.DataFrame(
        {
            "period": t["period"], "actor_a": t["a"], "actor_b": t["b"], "common": t["n"],
            "agree": po, "agree_voeten": 1 - t["dist"] / n / 2, "s": 1 - t["dist"] / n,
            "pi": ((po - pe_p) / (1 - pe_p)).where(pe_p < 1),
            "kappa": ((po - pe_k) / (1 - pe_k)).where(pe_k < 1),
        }
    )
    res.to_csv(out, index=False)
    t2 = time.perf_counter()
    print(f"pandas: load {t1 - t0:.2f} s, compute + write {t2 - t1:.2f} s", file=sys.stderr)


def check(paths):
    import csv

    for p in paths:
        rows = list(csv.DictReader(open(p)))
        sums = {m: sum(float(r[m]) for r in rows if r[m] not in ("", "NaN", "nan"))
                for m in ("common", "agree", "agree_voeten", "s", "pi", "kappa")}
        print(p, len(rows), " ".join(f"{m}={v:.6f}" for m, v in sums.items()))


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "duckdb":
        duckdb_side(sys.argv[2], sys.argv[3])
    elif what == "pandas":
        pandas_side(sys.argv[2], sys.argv[3])
    else:
        check(sys.argv[2:])
