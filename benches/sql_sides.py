#!/usr/bin/env python3
"""The SQLite and DuckDB sides of benches/index_vs_sql.sh: the same rows, the same six questions.

Usage: sql_sides.py build LOG SQLITE_DB DUCKDB_DB  -- load the log's actors, topics (with issue
                                                    tags) and stances into both databases, with
                                                    an index on (actor, topic, date) in SQLite
       sql_sides.py sql QUERY ARGS...              -- print the SQL of a query (for `sqlite3 -json`)
       sql_sides.py duckdb DB QUERY ARGS...        -- run a query in DuckDB (one Python process,
                                                    its own database file), JSON to stdout
       sql_sides.py same LABEL OURS SQLITE DUCKDB   -- check three JSON answers (arrays of objects)
                                                    are the same rows; exit 1 naming the first
                                                    difference if not
Queries: actor_positions ACTOR DATE, positions DATE, diff FROM TO, actor_timeline ACTOR,
issue_positions DATE ISSUE, actors. Stances are taken as recorded (the UN votes log has no
corrections or retractions). Dates compare as text (ISO dates sort). The columns carry
stancelog's names (`date AS since`, `id AS event_id`, a diff's sides `before_*` and `after_*`),
so `stancelog ... --columns` gives the same objects.
"""
import json
import sqlite3
import sys


def rows(log):
    actors, topics, issues, stances = [], [], [], []
    with open(log, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            t = r["type"]
            if t == "stance.declared":
                stances.append((r["seq"], r["actor"], r["topic"], r["stance"], r["date"], r["id"]))
            elif t == "actor.registered":
                actors.append((r["actor"], r["name"], r["seq"]))
            elif t == "topic.registered":
                topics.append((r["topic"], r["title"], r["seq"]))
                issues.extend((r["topic"], i) for i in r.get("issues", []))
    return actors, topics, issues, stances


SCHEMA = [
    "CREATE TABLE actor (actor TEXT PRIMARY KEY, name TEXT, seq INTEGER)",
    "CREATE TABLE topic (topic TEXT PRIMARY KEY, title TEXT, seq INTEGER)",
    "CREATE TABLE topic_issue (topic TEXT, issue TEXT)",
    "CREATE TABLE stance (seq INTEGER PRIMARY KEY, actor TEXT, topic TEXT, stance TEXT, date TEXT, id TEXT)",
]


def build(log, sqlite_db, duckdb_db):
    import duckdb

    actors, topics, issues, stances = rows(log)
    con = sqlite3.connect(sqlite_db)
    for s in SCHEMA:
        con.execute(s)
    con.executemany("INSERT INTO actor VALUES (?, ?, ?)", actors)
    con.executemany("INSERT INTO topic VALUES (?, ?, ?)", topics)
    con.executemany("INSERT INTO topic_issue VALUES (?, ?)", issues)
    con.executemany("INSERT INTO stance VALUES (?, ?, ?, ?, ?, ?)", stances)
    con.execute("CREATE INDEX pair_date ON stance (actor, topic, date, seq)")
    con.execute("CREATE INDEX topic_date ON stance (topic, date)")
    con.execute("CREATE INDEX issue_topic ON topic_issue (issue, topic)")
    con.commit()
    con.execute("ANALYZE")
    con.close()
    d = duckdb.connect(duckdb_db)
    for s in SCHEMA:
        d.execute(s)
    for table, data in (("actor", actors), ("topic", topics), ("topic_issue", issues), ("stance", stances)):
        if data:
            cols = len(data[0])
            import pyarrow as pa

            arrays = list(zip(*data))
            tbl = pa.table({f"c{i}": list(arrays[i]) for i in range(cols)})
            d.register("src", tbl)
            d.execute(f"INSERT INTO {table} SELECT * FROM src")
            d.unregister("src")
    d.close()


def latest(where):
    # Our column names: `date` is the stated date as given (our `since`), `id` the event id.
    return f"""SELECT actor, topic, stance, date AS since, seq, id AS event_id FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY actor, topic ORDER BY date DESC, seq DESC) AS rn
  FROM stance WHERE {where}
) WHERE rn = 1"""


def q(text):
    return "'" + text.replace("'", "''") + "'"


def sql(query, args):
    if query == "actor_positions":
        actor, date = args
        return latest(f"actor = {q(actor)} AND date <= {q(date)}") + " ORDER BY actor, topic"
    if query == "positions":
        return latest(f"date <= {q(args[0])}") + " ORDER BY actor, topic"
    if query == "diff":
        d1, d2 = args
        # Two left joins, not a FULL OUTER JOIN: SQLite ran that as a nested loop over the two
        # 449k-row sides (26 minutes before we stopped it).
        cols = ("b.stance AS before_stance, b.since AS before_since, b.seq AS before_seq, "
                "a.stance AS after_stance, a.since AS after_since, a.seq AS after_seq")
        return f"""WITH b AS ({latest(f"date <= {q(d1)}")}), a AS ({latest(f"date <= {q(d2)}")})
SELECT b.actor AS actor, b.topic AS topic,
  CASE WHEN a.actor IS NULL THEN 'removed' ELSE 'changed' END AS change, {cols}
FROM b LEFT JOIN a ON a.actor = b.actor AND a.topic = b.topic
WHERE a.actor IS NULL OR a.stance <> b.stance
UNION ALL
SELECT a.actor, a.topic, 'added', {cols}
FROM a LEFT JOIN b ON a.actor = b.actor AND a.topic = b.topic WHERE b.actor IS NULL
ORDER BY 1, 2"""
    if query == "actor_timeline":
        return (f"SELECT actor, topic, stance, date AS since, seq, id AS event_id FROM stance "
                f"WHERE actor = {q(args[0])} ORDER BY date, seq")
    if query == "issue_positions":
        date, issue = args
        where = f"date <= {q(date)} AND topic IN (SELECT topic FROM topic_issue WHERE issue = {q(issue)})"
        return latest(where) + " ORDER BY actor, topic"
    if query == "actors":
        return """SELECT a.actor, a.name, a.seq, count(s.seq) AS stances FROM actor a
LEFT JOIN stance s ON s.actor = a.actor GROUP BY a.actor, a.name, a.seq ORDER BY a.actor"""
    sys.exit(f"unknown query {query}")


def run_duckdb(db, query, args):
    import duckdb

    con = duckdb.connect(db, read_only=True)
    con.execute(f"COPY ({sql(query, args)}) TO '/dev/stdout' (FORMAT JSON, ARRAY true)")


def same(label, ours, *others):
    """Exits 1 unless every file holds the same rows as `ours` (orders may differ: ours are by
    actor name and topic title, the SQL sides' by id)."""

    def load(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        rows = json.loads(text) if text.strip() else []
        return sorted(json.dumps(r, sort_keys=True) for r in rows)

    want = load(ours)
    for path in others:
        got = load(path)
        if got != want:
            extra = sorted(set(got) - set(want))[:3]
            missing = sorted(set(want) - set(got))[:3]
            sys.exit(f"{label}: {path} has {len(got)} rows, {ours} {len(want)}; "
                     f"only in {path}: {extra}; only in ours: {missing}")
    print(f"{label}: the same {len(want)} rows on every side")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "build":
        build(*sys.argv[2:5])
    elif cmd == "sql":
        print(sql(sys.argv[2], sys.argv[3:]))
    elif cmd == "same":
        same(*sys.argv[2:])
    elif cmd == "duckdb":
        run_duckdb(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(f"unknown command {cmd}")
