"""posix_spawn and posix_spawnp that fail before their exec (glibc's child
exits 127 and glibc reaps it itself), then one that succeeds. Prints how many
failed, and the pid and wait status of the one that ran."""
import os
failed = 0
for call, path in ((os.posix_spawn, "/nonexistent/gtrace-no-such-program"), (os.posix_spawnp, "gtrace-no-such-program")):
    try:
        call(path, [path], os.environ)
    except FileNotFoundError:
        failed += 1
print("failed", failed)
pid = os.posix_spawn("/bin/true", ["true"], os.environ)
_, status = os.waitpid(pid, 0)
print("child", pid, "status", os.waitstatus_to_exitcode(status))
