import GtraceAnalysis
import GtraceFormat

/// The terminal report's scheduling sections: the process tree, CPU use over
/// time per process, and where each thread's time went.
enum SchedulingReport {
    /// Processes in tree order (children under their parent, by start time).
    static func processTree(_ a: TraceAnalysis, maxRows: Int = 60) -> [String] {
        let out = ["Processes"]
        var table = TextTable(header: ["pid", "ppid", "start", "lifetime", "CPU", "threads", "end", "reaped", "command"])
        table.leftAligned = [0, 6, 7, 8]
        var children: [Int: [ProcessStatistics]] = [:]
        var roots: [ProcessStatistics] = []
        let known = Set(a.processes.map(\.index))
        for p in a.processes {
            if let parent = p.parent, known.contains(parent), parent != p.index {
                children[parent, default: []].append(p)
            } else {
                roots.append(p)
            }
        }
        var visited: Set<Int> = []
        func visit(_ p: ProcessStatistics, depth: Int) {
            guard visited.insert(p.index).inserted else { return }
            let cpu = p.onCPUNanoseconds ?? p.cpuNanoseconds
            let reaped = p.reapedByPid.map { "by \($0) after \(Formatting.duration(p.reapWaitNanoseconds ?? 0))" } ?? "-"
            let command = TextReport.truncate(p.command.isEmpty ? "?" : p.command, 50) + (p.instrumented ? "" : " [not instrumented]")
            table.rows.append([String(repeating: "  ", count: min(depth, 8)) + "\(p.pid)", "\(p.ppid)",
                               Formatting.duration(p.startNanoseconds &- a.summary.startNanoseconds),
                               Formatting.duration(p.lifetimeNanoseconds), Formatting.duration(cpu), "\(p.threadCount)",
                               p.end.isEmpty ? p.exit : p.end, reaped, command])
            for child in (children[p.index] ?? []).sorted(by: { ($0.startNanoseconds, $0.index) < ($1.startNanoseconds, $1.index) }) {
                // The image an exec put in place of this one stays at its depth.
                visit(child, depth: child.pid == p.pid ? depth : depth + 1)
            }
        }
        for root in roots.sorted(by: { ($0.startNanoseconds, $0.index) < ($1.startNanoseconds, $1.index) }) { visit(root, depth: 0) }
        let hidden = table.rows.count - maxRows
        if hidden > 0 { table.rows.removeLast(hidden) }
        var notes = hidden > 0 ? ["  … \(hidden) more processes (all in --json)"] : []
        if a.processes.contains(where: { !$0.instrumented }) {
            notes.append("  [not instrumented]: a static (e.g. Go) or setuid program the runtime could not enter: none of its locks, futexes or blocking calls are seen, only its scheduling (perf)")
        }
        return out + table.render() + notes
    }

    /// One text sparkline per busy process: CPUs in use over the run.
    static func utilisation(_ a: TraceAnalysis, maxProcesses: Int = 10) -> [String] {
        let busy = a.processes.filter { ($0.onCPUNanoseconds ?? 0) > 0 && $0.utilisation != nil }
            .sorted { ($0.onCPUNanoseconds ?? 0, -$0.index) > ($1.onCPUNanoseconds ?? 0, -$1.index) }
        guard !busy.isEmpty else { return [] }
        let peak = max(1, busy.flatMap { $0.utilisation ?? [] }.max() ?? 1)
        let levels = Array(" ▁▂▃▄▅▆▇█")
        var out = ["CPU use over time (each column \(Formatting.duration(a.summary.utilisationBucketNanoseconds)); █ = \(String(format: "%.1f", peak)) CPUs)"]
        for p in busy.prefix(maxProcesses) {
            let line = (p.utilisation ?? []).map { value -> Character in
                let level = Int((value / peak * Double(levels.count - 1)).rounded())
                return levels[min(max(level, value > 0 ? 1 : 0), levels.count - 1)]
            }
            let average = Double(p.onCPUNanoseconds ?? 0) / Double(max(p.lifetimeNanoseconds, 1))
            out.append("  " + "\(p.pid)".padding(toLength: 8) + "|" + String(line) + "| "
                       + String(format: "%.2f", average) + " CPUs while alive")
        }
        if busy.count > maxProcesses { out.append("  … \(busy.count - maxProcesses) more processes") }
        return out + [""]
    }

    /// Where each thread's time went.
    static func threadStates(_ a: TraceAnalysis, maxThreads: Int = 40) -> [String] {
        let threads = a.threads.filter { $0.states != nil }
        guard !threads.isEmpty else { return [] }
        let source = a.summary.scheduling == "perf"
            ? "perf context switches + blocking calls"
            : "blocking calls only (\(a.summary.schedulingNote ?? "no perf")): running, runnable and other off-CPU are not separated"
        var out = ["Thread states (\(source))"]
        var table = TextTable(header: ["tid", "pid", "name", "on-CPU", "run+GIL", "running", "runnable", "lock/GIL wait",
                                       "sleeping", "child wait", "I/O", "other", "longest blocking call"])
        table.leftAligned = [0, 2, 12]
        let shown = threads.sorted { ($0.pid, $0.startNanoseconds, $0.tid) < ($1.pid, $1.startNanoseconds, $1.tid) }
        for t in shown.prefix(maxThreads) {
            guard let s = t.states else { continue }
            let whole = max(s.totalNanoseconds, 1)
            func part(_ ns: UInt64) -> String { ns == 0 ? "-" : Formatting.percent(Double(ns) / Double(whole)) }
            let top = t.blockingCalls.first.map { "\($0.call) ×\($0.count) \(Formatting.duration($0.totalNanoseconds))" } ?? "-"
            table.rows.append(["\(t.tid)", "\(t.pid)", TextReport.truncate(t.name, 16),
                               s.onCPUNanoseconds.map(Formatting.duration) ?? "-",
                               part(s.runningWithGILNanoseconds), part(s.runningNanoseconds), part(s.runnableNanoseconds),
                               part(s.lockWaitNanoseconds), part(s.sleepingNanoseconds), part(s.childWaitNanoseconds),
                               part(s.ioNanoseconds), part(s.otherOffCPUNanoseconds), top])
        }
        out += table.render()
        if shown.count > maxThreads { out.append("  … \(shown.count - maxThreads) more threads (all in --json)") }
        return out
    }
}

private extension String {
    func padding(toLength n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
