"""py_system_children.py THREADS N

THREADS threads each run `os.system` of a Python child that sums N squares.
libc's system() waits for its child inside libc, where no wrapper sees it, so
the threads' waits for their children are off the CPU in no recorded call.
The children compute in parallel. Prints one JSON line: wall_s."""
import json
import os
import sys
import threading
import time

threads, n = int(sys.argv[1]), int(sys.argv[2])
command = f"{sys.executable} -c 'sum(i * i for i in range({n}))'"
start = time.perf_counter()
workers = [threading.Thread(target=os.system, args=(command,)) for _ in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(json.dumps({"wall_s": time.perf_counter() - start}))
