# rb_gvl.rb threads|processes WORKERS N — WORKERS Ruby threads (or forked
# processes) each count to N in pure Ruby. Threads take turns on Ruby's GVL;
# processes run in parallel. Prints {"wall_ns": ...} (CLOCK_MONOTONIC around
# the workers).
mode, workers, n = ARGV[0], Integer(ARGV[1]), Integer(ARGV[2])
def work(n) s = 0; i = 0; while i < n; s += i; i += 1; end; s end
start = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
if mode == "processes"
  workers.times.map { fork { work(n) } }.each { |pid| Process.wait(pid) }
else
  workers.times.map { Thread.new { work(n) } }.each(&:join)
end
puts "{\"wall_ns\": #{Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond) - start}}"
