"""Worker processes fed by a multiprocessing.Queue and answering on another
(SharedLockTests): each worker computes (a CPU-bound loop per task, the GIL held)
and puts its result on the result queue, whose feeder thread writes it to a pipe
under the queue's lock, a semaphore shared by every process. The feeder holds that
lock while it waits for its own process's GIL (its worker is computing), so the
other workers' feeders queue on it; the workers' computing does not wait.

py_mp_queue_workers.py TASKS SIZE WORKERS: prints `wall S`, from the workers'
start to the last result."""
import multiprocessing as mp
import sys
import time


def work(tasks, results):
    while True:
        size = tasks.get()
        if size is None:
            break
        x = 0
        for i in range(size):
            x += i
        results.put(x)


def main():
    count, size, workers = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    tasks, results = mp.Queue(), mp.Queue()
    start = time.perf_counter()
    processes = [mp.Process(target=work, args=(tasks, results)) for _ in range(workers)]
    for p in processes:
        p.start()
    for _ in range(count):
        tasks.put(size)
    for _ in processes:
        tasks.put(None)
    total = sum(results.get() for _ in range(count))
    for p in processes:
        p.join()
    print(f"wall {time.perf_counter() - start:.3f}")
    return total


if __name__ == "__main__":
    main()
