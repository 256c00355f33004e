import threading, os
lock = threading.Lock()
def work():
    for i in range(3):
        with lock:
            sum(range(30000))
ts = [threading.Thread(target=work) for _ in range(2)]
for t in ts: t.start()
for t in ts: t.join()
pid = os.fork()
if pid == 0:
    os._exit(3)
os.waitpid(pid, 0)
