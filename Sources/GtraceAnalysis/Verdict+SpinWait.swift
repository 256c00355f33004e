import Foundation
import GtraceFormat

/// OpenMP's threads spin at barriers and between parallel regions before they
/// sleep, and OpenBLAS's helper threads between calls: perf sees them running.
/// An OpenMP loop whose static schedule gave one thread 3× the other's work
/// took 0.26 s on 2 threads against 0.33 s on one (1.25×), and its report said
/// "Limited by the cores: parallelism 1.90": the idle thread's spinning was
/// counted as work. gtrace cannot tell spinning from work, so the verdict says
/// which of the numbers it gave may include it, and how to run without it.
extension Verdict {
    static func spinWaitSentences(_ a: TraceAnalysis) -> [String] {
        // Only processes with several threads: a single thread has nobody to spin for.
        let threaded = Set(a.processes.filter { $0.threadCount >= 2 }.map(\.pid))
        let uses = a.summary.spinWaitRuntimes.filter { threaded.contains($0.pid) }
        return SpinWaitRuntime.allCases.compactMap { runtime -> String? in
            let of = uses.filter { $0.runtime == runtime }
            // Run with OMP_WAIT_POLICY=passive, OPENBLAS_NUM_THREADS=1 …: nothing spins (numpy's
            // svd in 2 threads under OPENBLAS_NUM_THREADS=1 was told to set it).
            guard !of.isEmpty, !runtime.isQuiet(in: a.summary.spinWaitEnvironment) else { return nil }
            let pids = Array(Set(of.map(\.pid))).sorted()
            let objects = Array(Set(of.map(\.object))).sorted().joined(separator: ", ")
            let who = pids.count == 1 ? "Process \(pids[0]) runs" : "Processes \(pids.prefix(3).map(String.init).joined(separator: ", "))\(pids.count > 3 ? " and \(pids.count - 3) more" : "") run"
            switch runtime {
            case .openMP:
                return "\(who) OpenMP (\(objects)): its threads spin on a CPU before they sleep (at barriers and between parallel regions), and gtrace counts the spinning as running, so the on-CPU times, the parallelism and the limit above may count waiting as work. With OMP_WAIT_POLICY=passive they sleep at once, and gtrace shows those waits."
            case .openBLAS:
                return "\(who) OpenBLAS (\(objects)): its helper threads spin on a CPU between calls before they sleep, and gtrace counts the spinning as running, so the on-CPU times, the parallelism and the limit above may count waiting as work. OPENBLAS_NUM_THREADS=1 runs without the helpers: compare its wall time."
            }
        }
    }
}

/// A pthread spinlock's waiters spin on a CPU (perf sees them running), and gtrace
/// records their waits: the spinning is measured, counted in the parallelism and left
/// out of the work. Four threads on one spinlock on 2 CPUs were "Limited by the cores:
/// parallelism 1.89" with 45 ms of their 226 ms on a CPU spent spinning.
extension Verdict {
    static func spinlockSentence(_ a: TraceAnalysis, saidByLockRule: Bool) -> String? {
        guard let p = a.parallelism, p.spinningIsLarge, let spinning = p.spinningNanoseconds else { return nil }
        let misfit = p.replayFit.map { !$0.fits } ?? false
        let why = " With more threads than CPUs a spinning thread also takes a CPU from the holder it waits for, which the replay does not model."
        if saidByLockRule { return misfit ? why.trimmingCharacters(in: .whitespaces) : nil }
        let names = a.locks.filter { $0.kind == LockKind.spinlock.label && $0.waitTotalNanoseconds > 0 }
            .sorted { $0.waitTotalNanoseconds > $1.waitTotalNanoseconds }.prefix(2).map { "\($0.name) (pid \($0.pid))" }
        return String(format: "Threads spun %@ on a CPU (%.0f%% of the CPU time) waiting for spinlocks%@: the parallelism counts that spinning as running, the limit leaves it out.",
                      duration(spinning), Double(spinning) / Double(p.cpuNanoseconds) * 100,
                      names.isEmpty ? "" : " (" + names.joined(separator: ", ") + ")")
            + (misfit ? why : "")
    }
}
