import Foundation
import GtraceFormat

/// Time the threads of multithreaded processes spent blocked where no wrapper
/// recorded anything (docs/METRICS.md, "Waits gtrace cannot see"): off the
/// CPU according to perf, not preempted, and inside no recorded lock wait,
/// condition wait, futex wait or blocking call. A lock built on raw futex
/// syscalls (Go, a static program) shows up here and nowhere else.
public struct InvisibleWaitStatistics: Sendable, Codable, Equatable {
    /// Unrecorded off-CPU time of the threads of multithreaded processes.
    public var blockedNanoseconds: UInt64 = 0
    /// Times those threads left a CPU into such a wait (not preempted).
    public var entries = 0
    /// Their total lifetime.
    public var threadNanoseconds: UInt64 = 0
    /// blocked ÷ thread time (0 when there is no such thread).
    public var share: Double = 0
    /// Processes (pids) the time comes from, the largest share first, and whether the runtime entered them.
    public var processes: [ProcessShare] = []
    /// The part of `blockedNanoseconds` that may be gtrace's own: its threads' time setting up
    /// record buffers (RecordingCost), at most all of the blocked time. Set-up time on a CPU
    /// is counted too, so this is an upper bound.
    public var recordingNanoseconds: UInt64 = 0
    /// (blocked − recording) ÷ thread time: the share the program's own waits may have.
    public var shareBeyondRecording: Double = 0
    /// Off-CPU time left out of `blockedNanoseconds`: stretches that ended as a child of the
    /// thread's process ended, tied to it by the replay (libc's system() and pclose() wait
    /// for their child inside libc). Four Python threads running children by `os.system`
    /// were "73% of their time off the CPU in waits gtrace cannot see … the lock table may
    /// not show what serialises them", where one CPU ran them in 0.19 s and two in 0.10 s.
    public var childWaitNanoseconds: UInt64 = 0

    public struct ProcessShare: Sendable, Codable, Equatable {
        public var pid: Int32
        public var blockedNanoseconds: UInt64
        public var threadNanoseconds: UInt64
        public var instrumented: Bool
    }

    /// From this share on, the verdict says so (and never that no lock limited the run).
    public static let significantShare = 0.1

    public var isSignificant: Bool { shareBeyondRecording >= Self.significantShare }

    /// "37% of thread time blocked in waits gtrace cannot see (…)".
    public var sentence: String {
        let uninstrumented = processes.contains { !$0.instrumented && $0.blockedNanoseconds > 0 }
        let why = uninstrumented
            ? "a program the runtime could not enter (static, e.g. Go, or setuid): none of its locks are seen"
            : "a lock implemented with raw futex syscalls, e.g. Go, or a call gtrace does not wrap"
        return String(format: "%.0f%% of thread time blocked in waits gtrace cannot see (%@)%@: locks behind them may serialise the work.",
                      shareBeyondRecording * 100, why, recordingClause)
    }

    /// ", beyond up to 1.2 s (40%) of gtrace setting up its record buffers", or "".
    var recordingClause: String {
        guard recordingNanoseconds > 0, threadNanoseconds > 0 else { return "" }
        return String(format: ", beyond up to %@ (%.0f%%) of gtrace setting up its record buffers", Verdict.duration(recordingNanoseconds),
                      Double(recordingNanoseconds) / Double(threadNanoseconds) * 100)
    }

    /// Computed from the thread states (perf only; nil without perf).
    static func compute(threads: [ThreadStatistics], processes: [ProcessStatistics], bufferSetupNanoseconds: UInt64? = nil,
                        childWaits: [UnseenChildWait] = []) -> InvisibleWaitStatistics? {
        guard threads.contains(where: { $0.states?.onCPUNanoseconds != nil }) else { return nil }
        var count: [Int: Int] = [:]
        for t in threads { count[t.process, default: 0] += 1 }
        var out = InvisibleWaitStatistics()
        var byProcess: [Int: (blocked: UInt64, total: UInt64)] = [:]
        for t in threads where (count[t.process] ?? 0) >= 2 {
            guard let states = t.states else { continue }
            let total = max(t.lifetimeNanoseconds, states.totalNanoseconds)
            var sums = byProcess[t.process] ?? (0, 0)
            let child = childWaits.indices.contains(t.index) ? childWaits[t.index] : UnseenChildWait(nanoseconds: 0, stretches: 0)
            let childNanoseconds = min(child.nanoseconds, states.otherOffCPUNanoseconds)
            out.childWaitNanoseconds = out.childWaitNanoseconds.adding(saturating: childNanoseconds)
            sums.blocked = sums.blocked.adding(saturating: states.otherOffCPUNanoseconds - childNanoseconds)
            out.entries += max(0, states.otherOffCPUEntries - child.stretches)
            sums.total = sums.total.adding(saturating: total)
            byProcess[t.process] = sums
        }
        for (index, v) in byProcess {
            out.blockedNanoseconds = out.blockedNanoseconds.adding(saturating: v.blocked)
            out.threadNanoseconds = out.threadNanoseconds.adding(saturating: v.total)
            let p = processes.first { $0.index == index }
            out.processes.append(ProcessShare(pid: p?.pid ?? 0, blockedNanoseconds: v.blocked, threadNanoseconds: v.total,
                                         instrumented: p?.instrumented ?? true))
        }
        out.processes.sort { ($0.blockedNanoseconds, -$0.pid) > ($1.blockedNanoseconds, -$1.pid) }
        out.share = out.threadNanoseconds == 0 ? 0 : Double(out.blockedNanoseconds) / Double(out.threadNanoseconds)
        out.recordingNanoseconds = min(bufferSetupNanoseconds ?? 0, out.blockedNanoseconds)
        out.shareBeyondRecording = out.threadNanoseconds == 0 ? 0
            : Double(out.blockedNanoseconds - out.recordingNanoseconds) / Double(out.threadNanoseconds)
        return out
    }
}
