"""Threads that feed child processes through pipes (tools/workloads, PipeChildrenTests).

THREADS threads each run JOBS children one after another; each child is this
script with `child`: it reads its stdin in 64 KiB pieces and spins SPIN_MS
milliseconds of CPU per piece. The parent writes 4 MiB to each child's stdin in
one call, which blocks on the full pipe until the child has read it all: the
parent's time goes to waiting for its children's CPU work, through the pipe.
Prints the run's own wall time as JSON.
Usage: py_pipe_children.py [THREADS [JOBS [SPIN_MS]]]   (default 4 4 2)
"""
import json
import subprocess
import sys
import threading
import time

PIECE = 64 * 1024
DATA = b"x" * (64 * PIECE)


def child(spin_ms):
    stdin = sys.stdin.buffer
    while True:
        piece = stdin.read(PIECE)
        if not piece:
            break
        end = time.thread_time() + spin_ms / 1000
        while time.thread_time() < end:
            pass


def worker(jobs, spin_ms):
    for _ in range(jobs):
        subprocess.run([sys.executable, __file__, "child", str(spin_ms)], input=DATA, check=True)


def main():
    if sys.argv[1:2] == ["child"]:
        child(float(sys.argv[2]))
        return
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    spin_ms = float(sys.argv[3]) if len(sys.argv) > 3 else 2
    start = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(jobs, spin_ms)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps({"wall_s": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
