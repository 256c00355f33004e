"""Threads that hold a threading.Lock across GIL switches (HolderWaitsTests): each of
THREADS threads does ROUNDS times `with lock:` MS milliseconds of Python work, then as
much outside. A holder loses the GIL to threads running the outside work (the switch
interval, 5 ms) and waits to get it back, the lock still held; those threads then queue on
the lock. Inside each hold the thread measures its wall time and its thread_time(): their
difference is the time the holder spent off its CPU while holding the lock (waiting for
the GIL, or preempted). Prints one line of JSON with the totals."""
import json
import sys
import threading
import time

LOCK_LINE = sys._getframe().f_lineno + 1
lock = threading.Lock()


def spin(seconds):
    end = time.thread_time() + seconds
    n = 0
    while time.thread_time() < end:
        n += 1
    return n


def worker(rounds, seconds, out):
    held = off = 0.0
    for _ in range(rounds):
        with lock:
            w, c = time.perf_counter(), time.thread_time()
            spin(seconds)
            dw, dc = time.perf_counter() - w, time.thread_time() - c
            held += dw
            off += dw - dc
        spin(seconds)
    out.append((held, off))


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    seconds = (float(sys.argv[3]) if len(sys.argv) > 3 else 4.0) / 1000
    out = []
    workers = [threading.Thread(target=worker, args=(rounds, seconds, out)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(json.dumps({"held_s": sum(o[0] for o in out), "off_cpu_held_s": sum(o[1] for o in out), "lock_line": LOCK_LINE}))


if __name__ == "__main__":
    main()
