"""A heartbeat thread (`while not stop.wait(0.02)`) beside CPU-bound workers, as a
progress reporter or watchdog runs; main sets the event once the workers are done.

Usage: py_heartbeat.py threads|processes [WORKERS [FIB [signalled|found]]]
  threads:   the workers are threads (they take turns on the GIL)
  processes: the same work in multiprocessing processes (fork)
  signalled: main sets the event while the heartbeat waits in it (the default)
  found:     main sets it while the heartbeat is between two waits, which then
             finds it set: the heartbeat's timeout is 60 ms and each beat computes
             ~3 ms; main spins until the next beat and sets the event at once
             (it gets the GIL back within the 0.2 ms switch interval)
Prints "wall_ns N beats B worker_cpu_ns C spin_ns S": the workers' start to the
heartbeat's join, the workers' CPU time (their thread clocks, or the children's
rusage), and how long main spun for the next beat (found; 0 otherwise)."""
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
    found = len(sys.argv) > 4 and sys.argv[4] == "found"
    stop = threading.Event()
    beats = [0]
    cpu = []

    def heartbeat():
        while not stop.wait(0.06 if found else 0.02):
            beats[0] += 1
            if found:
                spin_until = time.thread_time_ns() + 3_000_000
                while time.thread_time_ns() < spin_until:
                    pass

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
    spin = 0
    if found:
        spin_started = time.monotonic_ns()
        sys.setswitchinterval(0.0002)
        beat_seen = beats[0]
        while beats[0] == beat_seen:
            pass
        spin = time.monotonic_ns() - spin_started
    else:
        # The heartbeat is back in its wait by then (it needed the GIL after a timeout
        # while the workers ran): the stop is a post it waits for.
        time.sleep(0.03)
    stop.set()
    beat.join()
    wall = time.monotonic_ns() - start
    if mode == "processes":
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(int((children.ru_utime + children.ru_stime) * 1e9))
    print("wall_ns %d beats %d worker_cpu_ns %d spin_ns %d" % (wall, beats[0], sum(cpu), spin), flush=True)


if __name__ == "__main__":
    main()
