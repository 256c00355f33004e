"""3 processes increment a multiprocessing Manager's dict under the Manager's
Lock: every acquire is a request to the manager's server process, whose
thread for that connection waits there (in Server.serve_client) while
another holds it.

Usage: py_manager_lock.py [INCREMENTS]   (per process, default 800)
"""
import multiprocessing as mp
import sys


def work(d, lock, n):
    for _ in range(n):
        with lock:
            d["x"] = d["x"] + 1


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 800
    with mp.Manager() as m:
        d = m.dict(x=0)
        lock = m.Lock()
        ps = [mp.Process(target=work, args=(d, lock, n)) for _ in range(3)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        assert d["x"] == 3 * n
        print(d["x"])
