"""py_sqlite_inserts.py ROWS — one thread inserts ROWS rows into an in-memory
SQLite table and reads them back: CPython's sqlite3 releases and takes the GIL
around each call into SQLite, so the GIL changes state millions of times a
second with no other thread. Prints {"cpu_ns": process CPU time, "rows": ROWS}."""
import json
import sqlite3
import sys
import time

rows = int(sys.argv[1])
db = sqlite3.connect(":memory:")
db.execute("create table t(a integer, b text)")
db.executemany("insert into t values(?, ?)", ((i, str(i) * 5) for i in range(rows)))
total = db.execute("select count(*), sum(length(b)) from t where b like '%77%'").fetchone()
db.close()
print(json.dumps({"cpu_ns": time.process_time_ns(), "rows": rows, "matched": total[0]}))
