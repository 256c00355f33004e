import GtraceFormat

/// Per-thread state machines, per-process CPU use over time, and who reaped
/// whom, fed by the same event stream as the lock analysis.
struct SchedulingAccumulator {
    struct Reap {
        var parentPid: Int32
        var waitNanoseconds: UInt64
        var time: UInt64
    }

    static let bucketCount = 40

    private let tables: TraceTables
    private let gilLocks: LockSet
    private var machines: [ThreadStateMachine]
    private var lastEvent: [UInt64]
    private var begun: [Bool]
    /// Per thread, the span its states cover (`span(thread:)`).
    private var spans: [(start: UInt64, end: UInt64)]
    /// The end of a process with no end record (set by `finish`).
    private var traceEnd: UInt64 = 0
    private var calls: [[String: BlockingCallTotal]]
    private var processBuckets: [[UInt64]]
    private let start: UInt64
    let bucketNanoseconds: UInt64
    private(set) var reaps: [Int32: Reap] = [:]
    /// Every on-CPU interval (perf), for the utilisation histogram: 16 bytes per switch.
    private(set) var onCPUIntervals: [(start: UInt64, end: UInt64, process: Int)] = []
    /// The same intervals per process, in the same order (no walk over every interval per process).
    private var onCPUByProcess: [Int: [(start: UInt64, end: UInt64)]] = [:]
    /// Each process's threads, in index order.
    private let threadsOfProcess: [Int: [Int]]
    private(set) var timeline: ThreadTimelineAccumulator

    init(tables: TraceTables, traceEnd: UInt64) {
        self.tables = tables
        gilLocks = LockSet(tables.gils.compactMap(\.lock))
        machines = ThreadStateMachine.machines(for: tables)
        lastEvent = tables.threads.map(\.startNanoseconds)
        begun = Array(repeating: false, count: tables.threads.count)
        spans = tables.threads.map { ($0.startNanoseconds, $0.startNanoseconds) }
        calls = Array(repeating: [:], count: tables.threads.count)
        start = tables.processes.map(\.startNanoseconds).min() ?? 0
        let span = traceEnd > start ? traceEnd - start : 1
        bucketNanoseconds = max(1, (span + UInt64(Self.bucketCount) - 1) / UInt64(Self.bucketCount))
        processBuckets = Array(repeating: Array(repeating: 0, count: Self.bucketCount), count: tables.processes.count)
        timeline = ThreadTimelineAccumulator(threadCount: tables.threads.count, start: start, end: traceEnd)
        threadsOfProcess = Dictionary(grouping: tables.threads.indices, by: { tables.threads[$0].process })
    }

    mutating func consume(_ event: TraceEvent) {
        let t = event.thread
        guard machines.indices.contains(t) else { return }
        if !begun[t] {
            // The thread's time starts at its birth, or at an earlier switch record.
            begun[t] = true
            spans[t].start = min(event.time, tables.threads[t].startNanoseconds)
            machines[t].advance(to: spans[t].start)
        }
        lastEvent[t] = max(lastEvent[t], event.time)
        if let from = machines[t].chargedUpTo, event.time > from {
            timeline.add(thread: t, state: machines[t].stateInPlace(), from: from, to: event.time)
        }
        let done = machines[t].apply(event.kind, at: event.time, isGIL: { gilLocks.contains($0) })
        if let interval = machines[t].takeEndedOnCPU() { addOnCPU(thread: t, from: interval.start, to: interval.end) }
        if let done {
            let duration = event.time &- done.begin
            let name = done.call.name
            var total = calls[t][name] ?? BlockingCallTotal(call: name, count: 0, totalNanoseconds: 0, maxNanoseconds: 0)
            total.count += 1
            total.totalNanoseconds += duration
            total.maxNanoseconds = max(total.maxNanoseconds, duration)
            calls[t][name] = total
            if done.call.isWaitForChild, done.result > 0 {
                let process = tables.threads[t].process
                let pid = tables.processes.indices.contains(process) ? tables.processes[process].pid : 0
                reaps[done.result] = Reap(parentPid: pid, waitNanoseconds: duration, time: event.time)
            }
        }
    }

    /// Closes every thread at its end (its last event if later).
    mutating func finish(traceEnd: UInt64) {
        self.traceEnd = traceEnd
        for t in machines.indices {
            let info = tables.threads[t]
            let processEnd = tables.processes.indices.contains(info.process) ? tables.processes[info.process].endNanoseconds : nil
            let end = max(info.endNanoseconds ?? processEnd ?? traceEnd, lastEvent[t])
            if !begun[t] { machines[t].advance(to: info.startNanoseconds) }
            if let from = machines[t].chargedUpTo, end > from {
                timeline.add(thread: t, state: machines[t].state, from: from, to: end)
            }
            machines[t].finish(at: end)
            spans[t].end = max(end, spans[t].start)
            if let interval = machines[t].takeEndedOnCPU() { addOnCPU(thread: t, from: interval.start, to: interval.end) }
        }
    }

    /// The time thread `t`'s states cover, after `finish`: its recorded life,
    /// widened to the switch records perf saw before its start record (the
    /// fork or exec and the loader, before the runtime's constructor ran) or
    /// after its end record.
    func span(thread t: Int) -> (start: UInt64, end: UInt64) { spans[t] }

    /// The time process `p` lived, after `finish`: its recorded life, widened to
    /// cover its threads' spans (perf sees the fork or exec and the loader before
    /// the runtime's start record). The trace's end for a process with no end.
    func span(process p: Int) -> (start: UInt64, end: UInt64) {
        let info = tables.processes[p]
        var span = (start: info.startNanoseconds, end: info.endNanoseconds ?? traceEnd)
        for t in threadsOfProcess[p] ?? [] {
            span = (min(span.start, spans[t].start), max(span.end, spans[t].end))
        }
        return span
    }

    private mutating func addOnCPU(thread: Int, from: UInt64, to: UInt64) {
        let process = tables.threads[thread].process
        guard processBuckets.indices.contains(process), to > from else { return }
        onCPUIntervals.append((from, to, process))
        onCPUByProcess[process, default: []].append((from, to))
        var t = max(from, start)
        while t < to {
            let bucket = min(Int((t - start) / bucketNanoseconds), Self.bucketCount - 1)
            let bucketEnd = start + UInt64(bucket + 1) * bucketNanoseconds
            let piece = min(to, bucket == Self.bucketCount - 1 ? to : bucketEnd) - t
            processBuckets[process][bucket] = processBuckets[process][bucket].adding(saturating: piece)
            t += piece
        }
    }

    var hasPerf: Bool { tables.info["scheduling"] == "perf" }

    /// A hold of a lock other than the GIL, for the timeline.
    /// Holds of locks other than the GIL (summed apart: `ThreadTimelineAccumulator.addHold`).
    mutating func addHolds(_ holds: ThreadTimelineAccumulator) {
        timeline.addHolds(from: holds)
    }

    func states(thread: Int) -> ThreadStateTimes? {
        guard machines.indices.contains(thread), hasPerf || tables.info["scheduling"] == "wrappers" else { return nil }
        return machines[thread].times
    }

    func callTotals(thread: Int) -> [BlockingCallTotal] {
        guard calls.indices.contains(thread) else { return [] }
        return calls[thread].values.sorted { ($0.totalNanoseconds, $0.call) > ($1.totalNanoseconds, $1.call) }
    }

    func onCPU(process: Int) -> UInt64? {
        guard hasPerf else { return nil }
        return (threadsOfProcess[process] ?? []).map { machines[$0].times.onCPUNanoseconds ?? 0 }.saturatingSum
    }

    /// Process `p`'s threads' on-CPU time between two times (perf only).
    func onCPU(process: Int, from: UInt64, to: UInt64) -> UInt64? {
        guard hasPerf else { return nil }
        return (onCPUByProcess[process] ?? []).map { $0.end <= from || $0.start >= to ? 0 : min($0.end, to) - max($0.start, from) }.saturatingSum
    }

    /// The utilisation histogram of one process over its lifetime (perf only).
    func utilisationLevels(process: Int) -> [UtilisationLevel]? {
        guard hasPerf, tables.processes.indices.contains(process) else { return nil }
        let intervals = onCPUByProcess[process] ?? []
        let life = span(process: process)
        return UtilisationHistogram.levels(intervals, runStart: life.start, runEnd: life.end)
    }

    func utilisation(process: Int) -> [Double]? {
        guard hasPerf, processBuckets.indices.contains(process) else { return nil }
        return processBuckets[process].map { Double($0) / Double(bucketNanoseconds) }
    }
}

/// How a process ended, in words.
public enum ExitDescription {
    public static func text(kind: ExitKind, status: Int32) -> String {
        switch kind {
        case .unknown: return "end not recorded"
        case .exitCall: return "exit(\(status))"
        case .underscoreExit: return "_exit(\(status))"
        case .mainReturn: return "returned \(status) from main"
        case .signal: return "killed by \(signalName(status))"
        case .exec: return "replaced by exec"
        case .waitStatus: return "exited \(status)"
        }
    }

    static let signalNames = [
        1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
        9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
        16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU",
        23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO",
        30: "SIGPWR", 31: "SIGSYS",
    ]

    public static func signalName(_ number: Int32) -> String {
        signalNames[Int(number)] ?? "signal \(number)"
    }
}
