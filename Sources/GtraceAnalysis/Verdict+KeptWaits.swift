import Foundation

/// The replay keeps a wait whose waker it did not see as a fixed delay: on more
/// cores it lasts as long as it did. An asyncio loop's 174 ms `epoll_wait`, ended
/// by worker threads it could not tie it to (before readiness.c), made the verdict
/// say "More cores would not help its threads as recorded" for jobs that ran in
/// parallel. A claim that more cores would not help names such waits when they
/// are a large part of the run.
extension Verdict {
    static func keptWaitsCaveat(_ a: TraceAnalysis) -> String? {
        guard let p = a.parallelism, p.keptWaitsAreLarge,
              let largest = p.unexplainedWaits.filter({ !$0.wakerGuessed }).max(by: { $0.nanoseconds < $1.nanoseconds }) else { return nil }
        return String(format: " It keeps %@ of waits whose waker gtrace did not see as they were recorded (%.0f%% of the wall time; the largest, %@ in %d/%d, %@): if the program's own threads or children ended them (a lock gtrace does not see; a wait for a child inside libc, as system() and pclose() make), more cores could shorten those too.",
                      duration(p.keptWaitNanoseconds), Double(p.keptWaitNanoseconds) / Double(p.wallNanoseconds) * 100,
                      largest.what, largest.pid, largest.tid, duration(largest.nanoseconds))
    }
}
