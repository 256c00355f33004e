"""py_eventfd_waiters.py — two threads each poll their own eventfd; the main
thread writes the first after 50 ms and the second 50 ms later
(os.eventfd_write, which glibc writes through its internal write). Every
eventfd of a machine is the same anonymous inode: only the descriptor tells
the two waits apart. Python 3.10+."""
import os
import select
import threading
import time

first, second = os.eventfd(0), os.eventfd(0)


def wait(fd):
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    poller.poll()
    os.eventfd_read(fd)


threads = [threading.Thread(target=wait, args=(fd,)) for fd in (first, second)]
for t in threads:
    t.start()
time.sleep(0.05)
os.eventfd_write(first, 1)
time.sleep(0.05)
os.eventfd_write(second, 1)
for t in threads:
    t.join()
