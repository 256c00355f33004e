"""Workers that compute while they hold one lock (Verdict+HeldPythonLock.swift).

  py_lock_held_work.py MODE [WORKERS [HOLDS [HOLD_MS]]]

MODE "threads": WORKERS threads each HOLDS times spin HOLD_MS of their own CPU time
inside `with lock:` on one threading.Lock, then sleep 1 ms outside it. "processes":
the same in processes sharing one multiprocessing.Lock. "threads-nolock" and
"processes-nolock": the same spins without the lock. "threads-semaphore" and
"processes-semaphore": under a threading.Semaphore(1), or a multiprocessing one.
Prints one line of JSON with the wall time."""
import json
import multiprocessing as mp
import sys
import threading
import time


class NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def work(lock, holds, hold_s):
    for _ in range(holds):
        with lock:
            end = time.thread_time() + hold_s
            while time.thread_time() < end:
                pass
        time.sleep(0.001)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "threads"
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    holds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    hold_s = (float(sys.argv[4]) if len(sys.argv) > 4 else 5.0) / 1000
    if mode.startswith("threads"):
        if mode == "threads":
            lock = threading.Lock()
        elif mode == "threads-semaphore":
            lock = threading.Semaphore(1)
        else:
            lock = NoLock()
        runners = [threading.Thread(target=work, args=(lock, holds, hold_s)) for _ in range(workers)]
    else:
        lock = {"processes": mp.Lock, "processes-semaphore": lambda: mp.Semaphore(1)}.get(mode, NoLock)()
        runners = [mp.Process(target=work, args=(lock, holds, hold_s)) for _ in range(workers)]
    start = time.perf_counter()
    for r in runners:
        r.start()
    for r in runners:
        r.join()
    print(json.dumps({"mode": mode, "wall_s": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
