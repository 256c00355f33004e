"""A local HTTP server and its clients over loopback TCP: CLIENTS threads each
make REQUESTS requests, and the server computes fib(N) for each, in a thread
per request (threading: they take turns on the server's GIL) or a process per
request (forking).

Usage: py_http_load.py threading|forking CLIENTS REQUESTS N
Prints one JSON line: {"mode": ..., "wall_s": ..., "server_pid": ...}; wall_s
is the clients' time, from their start to the last response.
"""
import json
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = str(fib(int(self.path[1:]))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(mode):
    mixin = socketserver.ThreadingMixIn if mode == "threading" else socketserver.ForkingMixIn
    server = type("Server", (mixin, HTTPServer), {"daemon_threads": True})(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
        return
    if len(sys.argv) != 5 or sys.argv[1] not in ("threading", "forking"):
        sys.exit("usage: py_http_load.py threading|forking CLIENTS REQUESTS N")
    mode, clients, requests, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    server = subprocess.Popen([sys.executable, __file__, "serve", mode], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())

    def client():
        for _ in range(requests):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/{n}") as response:
                response.read()

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    server.terminate()
    server.wait()
    print(json.dumps({"mode": mode, "wall_s": wall, "server_pid": server.pid}))


if __name__ == "__main__":
    main()
