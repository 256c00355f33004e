"""A multiprocessing.Pool fed many tiny tasks: each worker squares a number,
and the parent pickles, sends and reads back each task and result one by one
(chunksize 1), so the parent is busy while the workers wait for it.

Usage: py_pool_small_tasks.py WORKERS CHUNKSIZE ITEMS [fork|spawn|forkserver]
Prints one JSON line: wall_s, the parent's CPU time (parent_cpu_s) and its
reaped workers' (workers_cpu_s), from getrusage, and the CPU time the workers
had used when they became ready for tasks (workers_startup_cpu_s: a spawned
worker's imports; each sends its time.process_time() once, from the pool's
initializer). The tasks start once every worker is ready: tasks_wall_s is
their wall time, parent_tasks_cpu_s the parent's CPU time meanwhile;
pool_wall_s and parent_pool_cpu_s the same from the pool's creation (the
workers' start-up included: a spawned worker's imports, slow from a cold
page cache, while the parent waits).
"""
import json
import multiprocessing
import resource
import sys
import time


def square(x):
    return x * x


def report_startup(ready):
    ready.put(time.process_time())


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: py_pool_small_tasks.py WORKERS CHUNKSIZE ITEMS [fork|spawn|forkserver]")
    workers, chunksize, items = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    context = multiprocessing.get_context(sys.argv[4] if len(sys.argv) == 5 else "fork")
    start = time.perf_counter()
    ready = context.SimpleQueue()
    pool_start, parent_pool_start = time.perf_counter(), time.process_time()
    pool = context.Pool(workers, initializer=report_startup, initargs=(ready,))
    startup = sum(ready.get() for _ in range(workers))
    tasks_start, parent_start = time.perf_counter(), time.process_time()
    total = sum(pool.imap(square, range(items), chunksize=chunksize))
    tasks_wall, parent_tasks = time.perf_counter() - tasks_start, time.process_time() - parent_start
    pool_wall, parent_pool = time.perf_counter() - pool_start, time.process_time() - parent_pool_start
    pool.close()
    pool.join()
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert total == sum(x * x for x in range(items))
    print(json.dumps({"wall_s": wall, "parent_cpu_s": own.ru_utime + own.ru_stime,
                      "workers_cpu_s": reaped.ru_utime + reaped.ru_stime, "workers_startup_cpu_s": startup,
                      "tasks_wall_s": tasks_wall, "parent_tasks_cpu_s": parent_tasks,
                      "pool_wall_s": pool_wall, "parent_pool_cpu_s": parent_pool}))


if __name__ == "__main__":
    main()
