#!/usr/bin/env python3
"""Two subinterpreters with their own GIL (CPython 3.12+), each counting on its
own thread: they run Python in parallel, and gtrace traces each GIL.

    subinterpreters.py [--size 2000000]
    subinterpreters.py --shared ROUNDS

--shared: one subinterpreter that shares the main GIL (a legacy one), entered
ROUNDS times by each of two threads. Each entry changes the thread's thread
state without a change of thread, which CPython's switch_number counts
(GILTruthTests: hand-offs plus those changes equal it).
"""
import json
import sys
import threading
import time

try:  # 3.13+
    import _interpreters as interpreters

    def create(shared=False):
        return interpreters.create("legacy" if shared else "isolated")

    def run(interp, code):
        interpreters.exec(interp, code)
except ImportError:  # 3.12
    import _xxsubinterpreters as interpreters

    def create(shared=False):
        return interpreters.create(isolated=not shared)

    def run(interp, code):
        interpreters.run_string(interp, code)


def shared(rounds: int) -> None:
    interp = create(shared=True)

    def enter():
        for _ in range(rounds):
            run(interp, "n = sum(range(1000))")

    threads = [threading.Thread(target=enter) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    interpreters.destroy(interp)
    print(json.dumps({"python": sys.version.split()[0], "shared": True, "rounds": rounds}))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--shared":
        shared(int(sys.argv[2]))
        return
    size = int(sys.argv[2]) if len(sys.argv) == 3 and sys.argv[1] == "--size" else 2_000_000
    code = f"n = 0\nfor _ in range({size}): n += 1\n"
    start = time.perf_counter()
    ids = [create() for _ in range(2)]
    threads = [threading.Thread(target=run, args=(i, code)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"subinterpreters": 2, "size": size, "wall_s": round(time.perf_counter() - start, 6),
                      "cpu_s": round(time.process_time(), 6)}))


if __name__ == "__main__":
    main()
