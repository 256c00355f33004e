"""CPython's own test_threading daemon-thread script (issue 12): 40 daemon
threads doing small file I/O with tiny random sleeps; the main thread calls
sys.exit(0) as soon as each has run once, while the others wait for the GIL.
Prints nothing: the GIL tests compare gtrace's hand-offs with switch_number."""
import os, random, sys, time, threading
seen = set()
def random_io():
    while True:
        with open(__file__, 'rb') as f:
            stuff = f.read(200)
            with open(os.devnull, 'wb') as n:
                n.write(stuff); time.sleep(random.random() / 1995)
        seen.add(threading.current_thread())
for _ in range(40):
    threading.Thread(target=random_io, daemon=True).start()
while len(seen) < 40: time.sleep(0.001)
sys.exit(0)
