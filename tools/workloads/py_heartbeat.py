"""A heartbeat thread (`while not stop.wait(0.02)`) beside CPU-bound workers, as a
progress reporter or watchdog runs; main sets the event once the workers are done.

Usage: py_heartbeat.py threads|processes [WORKERS [FIB]]
  threads:   the workers are threads (they take turns on the GIL)
  processes: the same work in multiprocessing processes (fork)
Prints "wall_ns N beats B worker_cpu_ns C": the workers' start to the heartbeat's
join, and the workers' CPU time (their thread clocks, or the children's rusage)."""
import multiprocessing
import resource
import sys
import threading
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def work(n, cpu=None):
    fib(n)
    if cpu is not None:
        cpu.append(time.thread_time_ns())


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "threads"
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    stop = threading.Event()
    beats = [0]
    cpu = []

    def heartbeat():
        while not stop.wait(0.02):
            beats[0] += 1

    start = time.monotonic_ns()
    beat = threading.Thread(target=heartbeat)
    beat.start()
    if mode == "processes":
        context = multiprocessing.get_context("fork")
        runners = [context.Process(target=work, args=(n,)) for _ in range(workers)]
    else:
        runners = [threading.Thread(target=work, args=(n, cpu)) for _ in range(workers)]
    for r in runners:
        r.start()
    for r in runners:
        r.join()
    # The heartbeat is back in its wait by then (it needed the GIL after a timeout while
    # the workers ran): the stop is a post it waits for, not a flag it finds set, which
    # the replay cannot tie to main (docs/METRICS.md, timer threads).
    time.sleep(0.03)
    stop.set()
    beat.join()
    wall = time.monotonic_ns() - start
    if mode == "processes":
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(int((children.ru_utime + children.ru_stime) * 1e9))
    print("wall_ns %d beats %d worker_cpu_ns %d" % (wall, beats[0], sum(cpu)), flush=True)


if __name__ == "__main__":
    main()
