import GtraceFormat

/// The GIL of one CPython process.
public struct GILStatistics: Sendable, Codable {
    public var process: Int
    public var pid: Int32
    public var python: String
    /// How the runtime located the GIL (layout, pattern, disagreement...).
    public var located: String
    /// False when the GIL was not traced (disagreement, free-threaded build).
    public var traced: Bool
    public var lifetimeNanoseconds: UInt64
    /// Time during which at least two threads of the process existed.
    public var multithreadedNanoseconds: UInt64
    public var heldNanoseconds: UInt64
    public var heldInMultithreadedNanoseconds: UInt64
    /// held ÷ process lifetime.
    public var heldRatio: Double
    /// held ÷ multithreaded window (nil when the process never had two threads).
    public var heldRatioMultithreaded: Double?
    public var acquisitions: Int
    public var contendedAcquisitions: Int
    /// Acquisitions by a different thread than the previous holder: what CPython
    /// counts in `switch_number` (minus its first acquisition).
    public var handOffs: Int
    public var handOffsPerSecond: Double
    public var holdMeanNanoseconds: UInt64
    public var holdP50Nanoseconds: UInt64
    public var holdP99Nanoseconds: UInt64
    public var holdMaxNanoseconds: UInt64
    /// From a release while another thread waited to the next acquisition.
    public var handOffLatencyMeanNanoseconds: UInt64
    public var handOffLatencyP50Nanoseconds: UInt64
    public var handOffLatencyP99Nanoseconds: UInt64
    /// Median length of the forced switches: holds that ended while another thread
    /// waited and lasted at least half the configured interval (CPython makes the
    /// holder drop the GIL once a waiter has waited the interval).
    public var observedSwitchIntervalNanoseconds: UInt64?
    public var waitTotalNanoseconds: UInt64
    /// Average number of threads waiting for the GIL over the multithreaded window (or the lifetime).
    public var averageWaiters: Double
    /// CPython's own counters, read at process exit.
    public var cpythonSwitchNumber: UInt64?
    public var cpythonIntervalMicroseconds: UInt64?
    /// The hand-offs CPython counted in this process (`switch_number − 1`, or minus the count a fork child inherited).
    public var cpythonHandOffs: UInt64?
    /// Changes of thread state within one thread that CPython also counted (a thread
    /// running in several interpreters that share the GIL; nil: not recorded).
    public var sameThreadSwitches: UInt64?
    /// Hand-offs CPython did not count: the new holder's thread state at the previous one's address.
    public var reusedThreadStates: UInt64?
    /// handOffs + sameThreadSwitches − reusedThreadStates == cpythonHandOffs (nil when CPython's counter is unknown).
    public var matchesCPython: Bool?
    public var threadsUsingGIL: Int
    /// Which Python code held the GIL and where threads waited for it (traces with Python locations).
    public var pythonCode: PythonGILAttribution?
    /// The GIL of a subinterpreter with its own GIL (3.12+): its process has several.
    public var subinterpreter = false
}

/// Per-thread time split by GIL state (a thread of a CPython process).
public struct ThreadGILTimes: Sendable, Codable {
    public var holdingNanoseconds: UInt64
    public var waitingNanoseconds: UInt64
    /// Thread CPU time not spent holding the GIL: C code that released it (absent without CPU time).
    public var runningWithoutGILNanoseconds: UInt64?
    /// The rest of the lifetime: blocked, sleeping, or waiting for a CPU.
    public var otherNanoseconds: UInt64?
}

/// Running totals for one process's GIL (fed by the analyzer's transitions).
struct GILAccumulator {
    let info: GILInfo
    let lock: Int
    var windows: [(start: UInt64, end: UInt64)] = []
    var holdHistogram = LogHistogram()
    var holdTotal: UInt64 = 0
    var holdMax: UInt64 = 0
    var heldInWindow: UInt64 = 0
    var forcedHoldHistogram = LogHistogram()
    var latencyHistogram = LogHistogram()
    var latencyTotal: UInt64 = 0
    /// Time of the last release that left a thread waiting (a hand-off in progress).
    var pendingHandOff: UInt64?
    var threads: Set<Int> = []

    init(info: GILInfo, lock: Int, tables: TraceTables, traceEnd: UInt64) {
        self.info = info
        self.lock = lock
        windows = Self.multithreadedWindows(process: info.process, tables: tables, traceEnd: traceEnd)
    }

    mutating func acquired(thread: Int, at time: UInt64) {
        threads.insert(thread)
        if let release = pendingHandOff {
            let latency = time >= release ? time - release : 0
            latencyHistogram.record(latency)
            latencyTotal = latencyTotal.adding(saturating: latency)
        }
        pendingHandOff = nil
    }

    mutating func holdEnded(_ interval: LockInterval) {
        holdHistogram.record(interval.duration)
        holdTotal = holdTotal.adding(saturating: interval.duration)
        holdMax = max(holdMax, interval.duration)
        let forcedMinimum = (info.intervalMicroseconds ?? 5000).multiplied(saturating: 500)  // half the interval, in ns
        if interval.waitersAtEnd > 0 && !interval.closedByEnd && interval.duration >= forcedMinimum {
            forcedHoldHistogram.record(interval.duration)
        }
        for w in windows where w.end > interval.start && w.start < interval.end {
            heldInWindow = heldInWindow.adding(saturating: min(w.end, interval.end) - max(w.start, interval.start))
        }
        if !interval.closedByEnd && interval.waitersAtEnd > 0 { pendingHandOff = interval.end }
    }

    func statistics(lockStats: LockStatistics?, tables: TraceTables, traceEnd: UInt64) -> GILStatistics {
        let process = tables.processes[info.process]
        let lifetime = (process.endNanoseconds ?? traceEnd) &- process.startNanoseconds
        let window = windows.map { $0.end &- $0.start }.saturatingSum
        let acquisitions = lockStats?.acquisitions ?? 0
        let handOffs = lockStats?.ownerChanges ?? 0
        let waitTotal = lockStats?.waitTotalNanoseconds ?? 0
        let traced = !info.status.contains(.disagree) && !info.status.contains(.disabled)
        var stats = GILStatistics(
            process: info.process, pid: process.pid, python: info.version, located: info.status.label, traced: traced,
            lifetimeNanoseconds: lifetime, multithreadedNanoseconds: window,
            heldNanoseconds: lockStats?.heldNanoseconds ?? 0, heldInMultithreadedNanoseconds: heldInWindow,
            heldRatio: lifetime == 0 ? 0 : Double(lockStats?.heldNanoseconds ?? 0) / Double(lifetime),
            heldRatioMultithreaded: window == 0 ? nil : Double(heldInWindow) / Double(window),
            acquisitions: acquisitions, contendedAcquisitions: lockStats?.contendedAcquisitions ?? 0,
            handOffs: handOffs,
            handOffsPerSecond: lifetime == 0 ? 0 : Double(handOffs) / (Double(lifetime) / 1e9),
            holdMeanNanoseconds: holdHistogram.count == 0 ? 0 : holdTotal / UInt64(holdHistogram.count),
            holdP50Nanoseconds: min(holdHistogram.percentile(0.5), holdMax),
            holdP99Nanoseconds: min(holdHistogram.percentile(0.99), holdMax), holdMaxNanoseconds: holdMax,
            handOffLatencyMeanNanoseconds: latencyHistogram.count == 0 ? 0 : latencyTotal / UInt64(latencyHistogram.count),
            handOffLatencyP50Nanoseconds: latencyHistogram.percentile(0.5),
            handOffLatencyP99Nanoseconds: latencyHistogram.percentile(0.99),
            observedSwitchIntervalNanoseconds: forcedHoldHistogram.count == 0 ? nil : forcedHoldHistogram.percentile(0.5),
            waitTotalNanoseconds: waitTotal,
            averageWaiters: Double(waitTotal) / Double(max(1, window > 0 ? window : lifetime)),
            cpythonSwitchNumber: info.switchNumber, cpythonIntervalMicroseconds: info.intervalMicroseconds,
            cpythonHandOffs: info.cpythonHandOffs, sameThreadSwitches: info.sameThreadSwitches,
            reusedThreadStates: info.reusedThreadStates,
            matchesCPython: info.cpythonHandOffs.map {
                UInt64(handOffs).adding(saturating: info.sameThreadSwitches ?? 0) == $0.adding(saturating: info.reusedThreadStates ?? 0)
            },
            threadsUsingGIL: threads.count)
        stats.subinterpreter = info.status.contains(.subinterpreter)
        return stats
    }

    /// Intervals during which the process had at least two live threads.
    static func multithreadedWindows(process: Int, tables: TraceTables, traceEnd: UInt64) -> [(start: UInt64, end: UInt64)] {
        let processEnd = tables.processes[process].endNanoseconds ?? traceEnd
        var changes: [(time: UInt64, delta: Int)] = []
        for t in tables.threads where t.process == process {
            changes.append((t.startNanoseconds, 1))
            changes.append((t.endNanoseconds ?? processEnd, -1))
        }
        changes.sort { ($0.time, $0.delta) < ($1.time, $1.delta) }
        var windows: [(start: UInt64, end: UInt64)] = []
        var live = 0
        var openedAt: UInt64?
        for change in changes {
            live += change.delta
            if live >= 2 && openedAt == nil { openedAt = change.time }
            if live < 2, let start = openedAt {
                if change.time > start { windows.append((start, change.time)) }
                openedAt = nil
            }
        }
        return windows
    }
}
