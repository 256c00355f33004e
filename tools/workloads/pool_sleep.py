#!/usr/bin/env python3
"""A pool working through items that each sleep: the verdict's "bigger pool"
advice (Tests/EndToEndTests/PoolAdviceTests.swift).

    pool_sleep.py threads|processes|http WORKERS ITEMS SECONDS

http: a thread pool whose items are HTTP requests to a local
ThreadingHTTPServer (a thread per request) that sleeps SECONDS per request.

Prints the wall time of the pool, in seconds, as `wall S`.
"""
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.request import urlopen


def item(seconds: float) -> None:
    time.sleep(seconds)


def serve(seconds: float) -> ThreadingHTTPServer:
    class Sleeper(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(seconds)
            body = b"x" * 1000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sleeper)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    if len(sys.argv) != 5 or sys.argv[1] not in ("threads", "processes", "http"):
        sys.exit("usage: pool_sleep.py threads|processes|http WORKERS ITEMS SECONDS")
    workers, items, seconds = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    if sys.argv[1] == "http":
        server = serve(seconds)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda _: urlopen(url).read(), range(items)))
        print(f"wall {time.perf_counter() - start:.6f}")
        server.shutdown()
        return
    executor = ThreadPoolExecutor if sys.argv[1] == "threads" else ProcessPoolExecutor
    start = time.perf_counter()
    with executor(workers) as pool:
        list(pool.map(item, [seconds] * items))
    print(f"wall {time.perf_counter() - start:.6f}")


if __name__ == "__main__":
    main()
