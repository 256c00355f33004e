import Foundation

/// Threads that hand off to each other tens of thousands of times a second pay
/// for every hand-off in CPU time: the system calls of the one that lets another
/// go and of the one woken, the context switches, the wake-up of the other CPU.
/// The replay gives each piece of work the CPU time it took in the recording, so
/// it counts that cost as work, and the cost changes with the what-if. Four
/// threads logging through one `logging.FileHandler` took 1.42 s on 2 CPUs and
/// 0.62 s on one, where the replay predicted 1.97 s for one core; without the
/// handler's lock they took 1.93–2.41 s, where it predicted 1.34 s. A C
/// condition-variable ping-pong: 0.70 s on 2 CPUs, 0.16 s on one, 0.40 s
/// predicted; two processes ping-ponging through pipes: 0.75–0.92 s on 2 CPUs,
/// 0.19 s on one, 0.63 s predicted. Programs whose threads hand off a few hundred times a second
/// (seeds 1 and 6) replay on one core within 3% of their run there.
extension Verdict {
    /// Hand-offs at least this often per second of the wall time…
    static let handOffsPerSecond = 5_000.0
    /// …while the kernel took at least this share of the CPU time get the sentence.
    static let handOffKernelShare = 0.2

    static func handOffCostSentence(_ a: TraceAnalysis) -> String? {
        guard let p = a.parallelism, p.cores >= 2, a.summary.wallNanoseconds > 0,
              a.summary.cpuNanoseconds > 0 else { return nil }
        guard let w = p.wakeUps, p.replayNote == nil else { return unreplayedHandOffCostSentence(a, p) }
        guard let (perSecond, kernelShare) = frequentHandOffs(a, w.count) else { return nil }
        let oneCore = p.predictions.first { $0.scenario == "as recorded" && $0.cores == 1 && $0.stuckThreads == 0 && $0.wallNanoseconds > 0 }
        let prediction = oneCore.map { String(format: " (it predicts %@ on one core)", duration($0.wallNanoseconds)) } ?? ""
        return String(format: "Its threads handed off to each other %d times, %@ a second (a lock handed over; a condition, event or semaphore signalled; a pipe or socket written), and the kernel took %.0f%% of the CPU time (%@). Hand-offs this frequent cost CPU time of their own, in the thread that lets another go and in the one woken (system calls, context switches, waking the other CPU), and the replay counts that time as the threads' work. On fewer cores the threads hand off less often and more cheaply, so the replay's predictions for fewer cores are too long here%@; a what-if that changes the hand-offs (a lock removed, threads as processes) has an error of unknown size and sign. Measure before you trust them: `taskset -c 0` runs the command on one core.",
                      w.count, count(UInt64(perSecond.rounded())), kernelShare * 100, duration(a.summary.systemCPUNanoseconds), prediction)
    }

    /// A recording too large for the what-ifs has no predictions to call too long, and one
    /// too large to replay at all no wake-up count of the replay's: its lock waits that
    /// ended are the hand-offs then. Four Python threads running sqlite3 statements
    /// (2.97 M events, the GIL released around each row): 0.62 s on 2 CPUs untraced,
    /// 0.26 s on one, and the report said only "Serial parts".
    static func unreplayedHandOffCostSentence(_ a: TraceAnalysis, _ p: ParallelismStatistics) -> String? {
        guard let note = p.replayNote else { return nil }
        let waits = p.wakeUps?.count ?? a.locks.filter { !$0.waitsAreJoins }.map(\.waitCount).reduce(0, +)
        guard let (perSecond, kernelShare) = frequentHandOffs(a, waits) else { return nil }
        let what = p.wakeUps == nil ? "waited for a lock and were handed it" : "handed off to each other"
        return String(format: "Its threads %@ %d times, %@ a second, and the kernel took %.0f%% of the CPU time (%@). Hand-offs this frequent cost CPU time of their own, in the thread that lets another go and in the one woken (system calls, context switches, waking the other CPU). On fewer cores the threads hand off less often and more cheaply, so the command may run faster on one core than on %d; gtrace predicts nothing here (%@). Measure it: `taskset -c 0` runs the command on one core.",
                      what, waits, count(UInt64(perSecond.rounded())), kernelShare * 100, duration(a.summary.systemCPUNanoseconds),
                      p.cores, note.components(separatedBy: "; the recording is replayed")[0])
    }

    /// `count` hand-offs a second of the wall time and the kernel's share of the CPU time
    /// (rusage), when both reach the thresholds; nil otherwise.
    static func frequentHandOffs(_ a: TraceAnalysis, _ count: Int) -> (perSecond: Double, kernelShare: Double)? {
        let perSecond = Double(count) / (Double(a.summary.wallNanoseconds) / 1e9)
        let kernelShare = Double(a.summary.systemCPUNanoseconds) / Double(a.summary.cpuNanoseconds)
        guard perSecond >= handOffsPerSecond, kernelShare >= handOffKernelShare else { return nil }
        return (perSecond, kernelShare)
    }
}
