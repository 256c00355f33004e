import Foundation
import GtraceFormat

/// Rule 1's "as processes" prediction moves each thread's work to a process of its
/// own. Threads that share Python objects (a `queue.Queue` they hand items through, a
/// dict under a lock) take Python locks that several of them use; as processes, what
/// those locks protect has to be shared between them (through a pipe, or in shared memory
/// under a process-shared lock), which the replay leaves out. Measured: a queue program of
/// 2 producer and 2 consumer threads (200 k items, 0.45 s) predicted "1.54× faster" as
/// processes; with multiprocessing.Queue it took 1.22–1.29 s. Four threads counting under
/// one lock (0.11–0.22 s): "1.76× faster"; with multiprocessing.Lock and Value, 0.16–0.38 s,
/// and about as fast as the threads in some runs. The sentence gives the cost per
/// acquisition at which the prediction's gain is gone, not a guess of the cost.
extension Verdict {
    /// Acquisitions of one process's Python locks that several of its threads used, per
    /// second of the run, from which the sentence is said.
    static let sharedObjectRate = 10_000.0
    /// The sentence, or nil when the threads of `pid` shared little; `saved` is what the
    /// prediction gains on the recording.
    static func sharedObjects(_ a: TraceAnalysis, pid: Int32, saved: UInt64) -> String? {
        func durationText(_ ns: Double) -> String { ns < 1000 ? String(format: "%.2f µs", ns / 1000) : duration(UInt64(ns)) }
        let shared = a.locks.filter { $0.pid == pid && $0.kind == LockKind.pythonLock.label && $0.threadsUsing >= 2 }
        let acquisitions = shared.reduce(0) { $0 + $1.acquisitions }
        let wall = Double(max(a.summary.wallNanoseconds, 1)) / 1e9
        guard acquisitions > 0, Double(acquisitions) / wall >= sharedObjectRate,
              let top = shared.max(by: { ($0.acquisitions, -$0.index) < ($1.acquisitions, -$1.index) }) else { return nil }
        // The gain is gone when sharing costs more than this per acquisition as processes.
        let breakEven = Double(saved) / Double(acquisitions)
        return String(format: "But the threads share Python objects: they took Python locks that several of them use %d times (%.0f k a second; most: %@, %d times). As processes, what those locks protect has to be shared between them, sent through a pipe (multiprocessing.Queue pickles each object: several µs each) or kept in shared memory under a lock they all take (multiprocessing.Value and Lock: ~0.1 µs uncontended, more when they contend), which this prediction leaves out: its %@ gain is gone if that costs more than %@ per acquisition. Measure the process version before switching.",
                      acquisitions, Double(acquisitions) / wall / 1000, top.name, top.acquisitions, duration(saved), durationText(breakEven))
    }
}
