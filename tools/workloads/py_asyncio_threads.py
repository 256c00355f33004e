"""py_asyncio_threads.py TASKS MIB — an asyncio loop hands TASKS hashing jobs
to worker threads (asyncio.to_thread) and sleeps in epoll_wait until they are
done: each job hashes MIB MiB with hashlib, which releases the GIL, so the
jobs run in parallel. Each finished job wakes the loop through its self-pipe
(a socketpair). Prints {"wall_ns": ...} (time.perf_counter_ns around the loop's
run)."""
import asyncio
import hashlib
import json
import sys
import time

tasks, mib = int(sys.argv[1]), int(sys.argv[2])
block = b"x" * (1 << 20)


def digest():
    h = hashlib.sha256()
    for _ in range(mib):
        h.update(block)
    return h.hexdigest()


async def main():
    return await asyncio.gather(*[asyncio.to_thread(digest) for _ in range(tasks)])


start = time.perf_counter_ns()
asyncio.run(main())
print(json.dumps({"wall_ns": time.perf_counter_ns() - start}))
