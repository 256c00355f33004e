"""A client's thread pool sends REQUESTS requests to a Python HTTP server it
started as a subprocess (a new interpreter, by exec), then ends the server with
terminate(): SIGTERM, so the server never exits on its own.

Usage: py_killed_server.py THREADS REQUESTS
Prints one JSON line: wall_s and the server's own CPU time (server_cpu_s, its
time.process_time() answered to a last request just before it was ended).
"""
import json
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

SERVER = r"""
import http.server, hashlib, sys, time
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/cpu":
            body = repr(time.process_time()).encode()
        else:
            body = hashlib.sha256(b"x" * 2_000_000).hexdigest().encode()
            s = 0
            for i in range(20_000):
                s += i
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: py_killed_server.py THREADS REQUESTS")
    threads, requests = int(sys.argv[1]), int(sys.argv[2])
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE)
    port = int(server.stdout.readline())
    url = "http://127.0.0.1:%d/" % port
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda i: urllib.request.urlopen(url + str(i)).read(), range(requests)))
    wall = time.perf_counter() - start
    server_cpu = float(urllib.request.urlopen(url + "cpu").read())
    server.terminate()
    server.wait()
    print(json.dumps({"wall_s": wall, "server_cpu_s": server_cpu}))


if __name__ == "__main__":
    main()
