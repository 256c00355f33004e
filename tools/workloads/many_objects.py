#!/usr/bin/env python3
"""Maps many shared objects (stdlib C extensions and the libraries behind
them: OpenSSL, SQLite, libffi, zlib, ...) and takes locks inside some of them
(OpenSSL and SQLite use pthread mutexes), for the symbolization benchmark
(tools/bench/symbols). Prints how many objects it has mapped."""
import array, asyncio, binascii, bz2, cmath, csv, ctypes, curses, datetime, dbm, decimal, fcntl, grp, hashlib  # noqa: F401
import json, lzma, math, mmap, multiprocessing, pickle, queue, random, readline, resource, select, socket  # noqa: F401
import sqlite3, ssl, struct, termios, unicodedata, uuid, xml.etree.ElementTree, zlib  # noqa: F401

connection = sqlite3.connect(":memory:")
connection.execute("create table t (x)")
for i in range(200):
    connection.execute("insert into t values (?)", (i,))
total = sum(row[0] for row in connection.execute("select x from t"))
hashlib.sha256(b"x" * 100000).hexdigest()
mapped = {line.split()[-1] for line in open("/proc/self/maps") if ".so" in line.split()[-1] or line.split()[-1].startswith("/usr/bin")}
print(f"objects {len(mapped)} sum {total}")
