"""py_pingpong.py ROUNDS — two threads hand two threading.Events back and
forth ROUNDS times: each hand-off wakes the other thread, and nothing else
runs. Prints {"wall_ns": ..., "cpu_ns": ..., "hand_offs": 2 * ROUNDS}
(time.perf_counter_ns and the process's CPU time, time.process_time_ns,
around the threads)."""
import json
import sys
import threading
import time

rounds = int(sys.argv[1])
ping, pong = threading.Event(), threading.Event()


def serve():
    for _ in range(rounds):
        ping.set()
        pong.wait()
        pong.clear()


def answer():
    for _ in range(rounds):
        ping.wait()
        ping.clear()
        pong.set()


start = time.perf_counter_ns()
cpu_start = time.process_time_ns()
threads = [threading.Thread(target=serve), threading.Thread(target=answer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"wall_ns": time.perf_counter_ns() - start, "cpu_ns": time.process_time_ns() - cpu_start,
                  "hand_offs": 2 * rounds}))
