"""Processes that do all their work under a multiprocessing.Value's lock
(SharedLockTests): PROCESSES processes (fork) share ROUNDS rounds; each round
takes the Value's lock, adds WORK ones to the value and stores it. The lock
serialises them, so more processes are no faster (untraced: 1 process 49 ms,
2 processes 54-65 ms, 4 processes 73-79 ms on 2 cores, 3.11). The run's
start-up (the interpreter, forking the workers) is ~40% of a traced run.
Prints one line of JSON with the work's wall time and the value."""
import json
import multiprocessing as mp
import sys
import time


def work(value, rounds, amount):
    for _ in range(rounds):
        with value.get_lock():
            x = value.value
            for _ in range(amount):
                x += 1
            value.value = x


def main():
    processes = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 12000
    amount = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    mp.set_start_method("fork")
    value = mp.Value("q", 0)
    start = time.perf_counter()
    workers = [mp.Process(target=work, args=(value, rounds // processes, amount)) for _ in range(processes)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(json.dumps({"processes": processes, "wall_s": time.perf_counter() - start, "value": value.value}))


if __name__ == "__main__":
    main()
