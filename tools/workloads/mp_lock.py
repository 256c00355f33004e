"""PROCESSES multiprocessing.Process workers (CONTEXT: fork, the default, or
spawn) take one multiprocessing.Lock ROUNDS times each and spin HOLD_MS under
it (tools/workloads/README.md); with a fifth argument `sleep` they sleep it
instead (the holders then wait in a blocking call while holding it). Each
worker measures its own time holding the lock and waiting in acquire(); the
parent prints one line of JSON with their totals."""
import json
import multiprocessing as mp
import sys
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def worker(lock, rounds, hold, results, pause=spin):
    held = waited = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        lock.acquire()
        t1 = time.perf_counter()
        pause(hold)
        t2 = time.perf_counter()
        lock.release()
        waited += t1 - t0
        held += t2 - t1
    results.put((held, waited))


def main():
    processes = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    hold = (float(sys.argv[3]) if len(sys.argv) > 3 else 2.0) / 1000
    ctx = mp.get_context(sys.argv[4] if len(sys.argv) > 4 else "fork")
    lock, results = ctx.Lock(), ctx.SimpleQueue()
    start = time.perf_counter()
    pause = time.sleep if sys.argv[5:6] == ["sleep"] else spin
    workers = [ctx.Process(target=worker, args=(lock, rounds, hold, results, pause)) for _ in range(processes)]
    for w in workers:
        w.start()
    totals = [results.get() for _ in workers]
    for w in workers:
        w.join()
    print(json.dumps({"processes": processes, "rounds": rounds, "hold_ns": sum(t[0] for t in totals) * 1e9,
                      "wait_ns": sum(t[1] for t in totals) * 1e9, "wall_ns": (time.perf_counter() - start) * 1e9}))


if __name__ == "__main__":
    main()
