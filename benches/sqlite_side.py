#!/usr/bin/env python3
"""The SQLite side of benches/un_votes.sh: the same rows and the same questions, with an index.

Usage: sqlite_side.py build LOG DB      -- load every stance.declared of LOG into DB, indexed
       sqlite_side.py positions DB DATE -- latest stance per (actor, topic) with date <= DATE
       sqlite_side.py diff DB FROM TO   -- pairs whose latest stance differs between two dates
Each query writes its rows as JSON to stdout, as stancelog does, so both sides do the same work.
Dates are compared as text (ISO YYYY-MM-DD sorts correctly; the UN data has full dates only).
"""
import json
import sqlite3
import sys


def build(log, db):
    con = sqlite3.connect(db)
    con.execute("DROP TABLE IF EXISTS stance")
    con.execute(
        "CREATE TABLE stance (seq INTEGER PRIMARY KEY, actor TEXT, topic TEXT, stance TEXT, date TEXT, id TEXT)"
    )
    rows = []
    with open(log, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "stance.declared":
                rows.append((r["seq"], r["actor"], r["topic"], r["stance"], r["date"], r["id"]))
    con.executemany("INSERT INTO stance VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.execute("CREATE INDEX pair_date ON stance (actor, topic, date, seq)")
    con.commit()
    con.execute("ANALYZE")
    con.close()


LATEST = """
SELECT actor, topic, stance, date, seq, id FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY actor, topic ORDER BY date DESC, seq DESC) AS rn
  FROM stance WHERE date <= ?
) WHERE rn = 1 ORDER BY actor, topic
"""


def positions(db, date):
    con = sqlite3.connect(db)
    out = [
        {"actor": a, "topic": t, "stance": s, "since": d, "seq": q, "event_id": i}
        for a, t, s, d, q, i in con.execute(LATEST, (date,))
    ]
    json.dump(out, sys.stdout, indent=2)


def diff(db, d1, d2):
    con = sqlite3.connect(db)
    before = {(a, t): (s, d, q) for a, t, s, d, q, _ in con.execute(LATEST, (d1,))}
    after = {(a, t): (s, d, q) for a, t, s, d, q, _ in con.execute(LATEST, (d2,))}
    out = []
    for key in sorted(before.keys() | after.keys()):
        b, a = before.get(key), after.get(key)
        if b is None:
            change = "added"
        elif a is None:
            change = "removed"
        elif b[0] != a[0]:
            change = "changed"
        else:
            continue
        out.append({"actor": key[0], "topic": key[1], "change": change, "before": b, "after": a})
    json.dump(out, sys.stdout, indent=2)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "build":
        build(sys.argv[2], sys.argv[3])
    elif cmd == "positions":
        positions(sys.argv[2], sys.argv[3])
    elif cmd == "diff":
        diff(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"unknown command {cmd}")
