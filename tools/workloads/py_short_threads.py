"""THREADS short-lived threads, at most ALIVE at a time: each sleeps SLEEP_MS
(default 10 ms; 0: no sleep, so the thread never lets the GIL go itself), then
runs `task`'s loop for about LOOP_MS of its own CPU time and returns, so its
last GIL hold ends at its exit (tools/workloads/README.md). Prints one line of
JSON: the loops' total `time.thread_time()`."""
import json
import sys
import threading
import time


def task(loop_seconds, sleep_seconds, totals):
    if sleep_seconds > 0:
        time.sleep(sleep_seconds)
    start = time.thread_time()
    s = 0
    while time.thread_time() - start < loop_seconds:
        for k in range(1000):
            s += k
    totals.append(time.thread_time() - start)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    alive = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    loop = (float(sys.argv[3]) if len(sys.argv) > 3 else 2.0) / 1000
    sleep = (float(sys.argv[4]) if len(sys.argv) > 4 else 10.0) / 1000
    totals, running = [], []
    for _ in range(threads):
        t = threading.Thread(target=task, args=(loop, sleep, totals))
        t.start()
        running.append(t)
        if len(running) >= alive:
            running.pop(0).join()
    for t in running:
        t.join()
    print(json.dumps({"threads": threads, "task_cpu_ns": sum(totals) * 1e9}))


if __name__ == "__main__":
    main()
