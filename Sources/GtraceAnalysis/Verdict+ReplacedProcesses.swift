import Foundation

/// Python processes forked one after another while the run went on: a pool that replaces
/// its workers (`Pool(maxtasksperchild=1)`, `ProcessPoolExecutor(max_tasks_per_child=…)`)
/// or a process per task. As threads of one process none of them would be forked, started
/// or torn down, but the replay keeps every process's work: `Pool(2, maxtasksperchild=1)`
/// over 20 `fib(24)` was predicted 1.51× slower as threads, with "86 µs a byte" of passing
/// to explain it, while untraced its `ThreadPool(2)` took 1.02–1.14× the processes' time.
/// Each worker used ~16 ms of CPU time, of which its task took ~9.5 ms (the threads
/// version ran the 20 in ~0.19 s).
extension Verdict {
    struct ReplacedProcesses {
        var count: Int
        /// The most of them alive at once.
        var atOnce: Int
        var cpuNanoseconds: UInt64?
    }

    /// Of `python` (the GILs of the "as threads" what-if), the processes that began as a
    /// fork (not started by exec, nor forked from one that was), when there were more of
    /// them than were ever alive at once: workers replaced, not a set started together.
    static func replacedProcesses(_ a: TraceAnalysis, among python: [GILStatistics]) -> ReplacedProcesses? {
        guard let root = a.processes.first(where: { $0.parent == nil }) else { return nil }
        let owners = Set(python.filter { !$0.subinterpreter }.map(\.process))
            .filter { beganByExec(a.processes, $0, rootPid: root.pid) == false }
        guard owners.count >= 3 else { return nil }
        let most = Analyzer.mostAliveAtOnce(owners.map { (a.processes[$0].startNanoseconds, a.processes[$0].lifetimeNanoseconds) })
        guard owners.count > most else { return nil }
        return ReplacedProcesses(count: owners.count, atOnce: most, cpuNanoseconds: processesCPU(a.processes, owners))
    }

    /// The caveat said after the "as threads" prediction when its processes were forked one
    /// after another; nil otherwise.
    static func replacedProcessesCaveat(_ a: TraceAnalysis, among python: [GILStatistics]) -> String? {
        guard let r = replacedProcesses(a, among: python) else { return nil }
        return String(format: " %d of them were forked one after another while the run went on, at most %d alive at once (a pool that replaces its workers, as with maxtasksperchild, or a process per task)%@; the replay keeps each one's start and exit and the forks themselves, which threads of one process would not repeat: the prediction is too long by the time those took.",
                      r.count, r.atOnce, r.cpuNanoseconds.map { ", and used \(duration($0)) of CPU time in all" } ?? "")
    }
}
