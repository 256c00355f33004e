import GtraceFormat

extension Verdict {
    /// Of `python` (the GILs of the "as threads of one process" what-if), the processes
    /// that run an interpreter started by exec below the root's: multiprocessing's spawn
    /// and forkserver (the default from Python 3.14) start a new interpreter and import
    /// again, and forkserver's workers are forks of such a one. As threads of one process
    /// none of that start-up would happen, but the replay keeps every process's work: with
    /// 16 small tasks on a `ProcessPoolExecutor(2)` of 3.14 it predicted threads 1.48× slower,
    /// and threads took 0.15 s against the processes' 0.21 s.
    /// Their CPU time is perf's on-CPU time, else getrusage's at exit; nil when a process has
    /// neither (one killed without perf: an HTTP server ended by `terminate()` had "used 0 ns").
    static func startedInterpreters(_ a: TraceAnalysis, among python: [GILStatistics]) -> (count: Int, cpuNanoseconds: UInt64?) {
        guard let root = a.processes.first(where: { $0.parent == nil }) else { return (0, 0) }
        // Its own start, or that of a process it was forked from (forkserver's workers).
        let byExec = python.filter { !$0.subinterpreter && beganByExec(a.processes, $0.process, rootPid: root.pid) == true }
        return (byExec.count, processesCPU(a.processes, Set(byExec.map(\.process))))
    }

    /// Whether a process below the root began with an exec, or was forked from one that did:
    /// walking up its parents, true at the first that began with an exec, false on reaching
    /// the root's pid without one (forked from the root, or from a fork of it), nil for the
    /// root's own images and for a chain that leaves the trace.
    static func beganByExec(_ processes: [ProcessStatistics], _ index: Int, rootPid: Int32) -> Bool? {
        var i = index
        for _ in processes.indices {
            guard processes.indices.contains(i), processes[i].pid != rootPid else { return nil }
            if processes[i].startedByExec { return true }
            guard let parent = processes[i].parent, processes.indices.contains(parent) else { return nil }
            if processes[parent].pid == rootPid { return false }
            i = parent
        }
        return nil
    }

    /// The CPU time of these processes (indices), each once: perf's on-CPU time, else
    /// getrusage's at exit; nil when one has neither.
    static func processesCPU(_ processes: [ProcessStatistics], _ indices: Set<Int>) -> UInt64? {
        let times = indices.map { i -> UInt64? in
            guard processes.indices.contains(i) else { return nil }
            let p = processes[i]
            return p.onCPUNanoseconds ?? (p.cpuNanoseconds > 0 ? p.cpuNanoseconds : nil)
        }
        return times.contains(nil) ? nil : times.compactMap { $0 }.saturatingSum
    }

    /// The caveat said after the "as threads" prediction when some of its GILs are those of
    /// interpreters that started anew: by exec, or subinterpreters (3.12+; 3.14's
    /// `InterpreterPoolExecutor`), which import again in their own interpreter. nil when none.
    static func interpreterStartCaveat(_ a: TraceAnalysis, among python: [GILStatistics]) -> String? {
        let (execs, cpu) = startedInterpreters(a, among: python)
        let subinterpreters = python.filter(\.subinterpreter)
        if subinterpreters.isEmpty, execs > 0 {
            return String(format: " %d of them run interpreters started anew by exec (a Python subprocess; multiprocessing's spawn, or forkserver and the workers it forks: the default from Python 3.14)%@; the replay keeps their start-up and imports, which threads of one interpreter would not repeat: the prediction is too long by the time those took.",
                          execs, cpu.map { " and used \(duration($0)) of CPU time in all" } ?? "")
        }
        if !subinterpreters.isEmpty, execs == 0 {
            let held = subinterpreters.map(\.heldNanoseconds).saturatingSum
            return String(format: " %d of them are subinterpreters, which start anew and import again (their GILs were held %@ in all); the replay keeps their start-up and imports, which threads of one interpreter would not repeat: the prediction is too long by the time those took.",
                          subinterpreters.count, duration(held))
        }
        guard execs > 0 else { return nil }
        return String(format: " %d of them run interpreters started anew (%d subinterpreters, %d by exec: multiprocessing's spawn or forkserver); the replay keeps their start-up and imports, which threads of one interpreter would not repeat: the prediction is too long by the time those took.",
                      execs + subinterpreters.count, subinterpreters.count, execs)
    }
}

extension Verdict {
    /// Whether at least two of the processes of `python` (the GILs of the "as threads of one
    /// process" what-if) lived at the same time for 1 ms or more, or one process has
    /// several (subinterpreters). A Python program that exec'd Python again is two
    /// processes of one pid, one after the other (their recorded lives touch): as threads
    /// of one process it would be the same run, and "one GIL for its 2 interpreters" was
    /// said of it.
    static func pythonProcessesOverlap(_ a: TraceAnalysis, _ python: [GILStatistics]) -> Bool {
        let owners = Set(python.map(\.process))
        if owners.count < python.count { return true }
        let lives = owners.sorted().compactMap { i -> (pid: Int32, start: UInt64, end: UInt64)? in
            guard a.processes.indices.contains(i) else { return nil }
            let p = a.processes[i]
            return (p.pid, p.startNanoseconds, p.startNanoseconds.adding(saturating: p.lifetimeNanoseconds))
        }
        for (n, one) in lives.enumerated() {
            for other in lives[(n + 1)...] where other.pid != one.pid {
                let start = max(one.start, other.start), end = min(one.end, other.end)
                if end > start, end - start >= 1_000_000 { return true }
            }
        }
        return false
    }
}
