"""A client's thread pool sends REQUESTS requests to a Python HTTP server it
started as a subprocess (a new interpreter, by exec), then ends the server with
terminate(): SIGTERM, so the server never exits on its own.

Usage: py_killed_server.py THREADS REQUESTS [WAIT_S]
WAIT_S: seconds the client sleeps after the server is up, before its requests.
Prints one JSON line: wall_s, the server's own CPU time (server_cpu_s, its
time.process_time() answered to a last request just before it was ended), the
client's (client_cpu_s), and the most CPU time any one thread of either used
(busiest_thread_s: the server's main thread, its request threads, the client's
main thread and pool threads, each by its own CPU clock).
"""
import json
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

SERVER = r"""
import http.server, hashlib, json, sys, threading, time
busiest = 0.0
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global busiest
        if self.path == "/cpu":
            main = time.clock_gettime(time.pthread_getcpuclockid(threading.main_thread().ident))
            body = json.dumps([time.process_time(), max(busiest, main)]).encode()
        else:
            body = hashlib.sha256(b"x" * 2_000_000).hexdigest().encode()
            s = 0
            for i in range(20_000):
                s += i
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        busiest = max(busiest, time.thread_time())
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: py_killed_server.py THREADS REQUESTS [WAIT_S]")
    threads, requests = int(sys.argv[1]), int(sys.argv[2])
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE)
    port = int(server.stdout.readline())
    url = "http://127.0.0.1:%d/" % port
    time.sleep(float(sys.argv[3]) if len(sys.argv) == 4 else 0)
    pool_threads = {}

    def get(i):
        urllib.request.urlopen(url + str(i)).read()
        pool_threads[threading.get_ident()] = time.thread_time()

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(get, range(requests)))
    wall = time.perf_counter() - start
    server_cpu, server_busiest = json.loads(urllib.request.urlopen(url + "cpu").read())
    server.terminate()
    server.wait()
    busiest = max([server_busiest, time.thread_time()] + list(pool_threads.values()))
    print(json.dumps({"wall_s": wall, "server_cpu_s": server_cpu, "client_cpu_s": time.process_time(),
                      "busiest_thread_s": busiest}))


if __name__ == "__main__":
    main()
