import GtraceFormat

/// Each thread's states over the run at a coarse resolution, for the HTML
/// report's timeline: the run cut into `bucketCount` equal columns; per
/// column the state the thread spent most time in, and the share of it
/// spent holding a lock other than the GIL. Memory: threads × columns.
public struct ThreadTimeline: Sendable, Codable {
    public static let bucketCount = 200
    /// At most this many threads get a timeline (the busiest are chosen at the end).
    public static let threadLimit = 256

    public struct Row: Sendable, Codable {
        public var thread: Int
        public var tid: Int32
        public var pid: Int32
        public var name: String
        /// Per column: index into `states`, or -1 when the thread did not exist.
        public var dominant: [Int]
        /// Per column: percent of the column the thread held a lock (not the GIL).
        public var lockHeld: [Int]
    }

    public var startNanoseconds: UInt64
    public var bucketNanoseconds: UInt64
    /// State names, in ThreadStateMachine.State order.
    public var states: [String]
    public var rows: [Row]
}

/// Collects the timeline while the events stream by.
struct ThreadTimelineAccumulator {
    private let start: UInt64
    private let width: UInt64
    private var perState: [[UInt64]]   // thread → column * 8 + state
    private var held: [[UInt64]]       // thread → column
    private let tracked: Int

    init(threadCount: Int, start: UInt64, end: UInt64) {
        self.start = start
        let span = end > start ? end - start : 1
        width = max(1, span.adding(saturating: UInt64(ThreadTimeline.bucketCount) - 1) / UInt64(ThreadTimeline.bucketCount))
        tracked = min(threadCount, ThreadTimeline.threadLimit * 4)
        perState = Array(repeating: [], count: tracked)
        held = Array(repeating: [], count: tracked)
    }

    /// The column of time `t` (≥ start) and where that column ends (`to` for the last column).
    @inline(__always)
    private func column(at t: UInt64, to: UInt64) -> (column: Int, end: UInt64) {
        let column = min(Int((t - start) / width), ThreadTimeline.bucketCount - 1)
        let columnEnd = column == ThreadTimeline.bucketCount - 1 ? to : start + UInt64(column + 1) * width
        return (column, min(to, columnEnd))
    }

    // Both adders spread [from, to) over the columns it covers, indexing the
    // thread's row in place (a closure capturing the rows would copy the outer
    // array on every call: O(threads) per event).
    mutating func add(thread: Int, state: ThreadStateMachine.State, from: UInt64, to: UInt64) {
        guard thread < tracked, to > from else { return }
        if perState[thread].isEmpty { perState[thread] = Array(repeating: 0, count: ThreadTimeline.bucketCount * 8) }
        var t = max(from, start)
        while t < to {
            let (c, end) = column(at: t, to: to)
            perState[thread][c * 8 + state.rawValue] = perState[thread][c * 8 + state.rawValue].adding(saturating: end - t)
            t = end
        }
    }

    mutating func addHold(thread: Int, from: UInt64, to: UInt64) {
        guard thread < tracked, to > from else { return }
        if held[thread].isEmpty { held[thread] = Array(repeating: 0, count: ThreadTimeline.bucketCount) }
        var t = max(from, start)
        while t < to {
            let (c, end) = column(at: t, to: to)
            held[thread][c] = held[thread][c].adding(saturating: end - t)
            t = end
        }
    }

    /// Adds the holds another accumulator of the same run summed (its
    /// columns are the same: both were made by the same `init`).
    mutating func addHolds(from other: ThreadTimelineAccumulator) {
        for thread in 0..<min(tracked, other.tracked) where !other.held[thread].isEmpty {
            if held[thread].isEmpty { held[thread] = Array(repeating: 0, count: ThreadTimeline.bucketCount) }
            for c in 0..<ThreadTimeline.bucketCount {
                held[thread][c] = held[thread][c].adding(saturating: other.held[thread][c])
            }
        }
    }

    func timeline(tables: TraceTables) -> ThreadTimeline {
        // The busiest threads first, by time on a CPU or holding the GIL.
        func busy(_ t: Int) -> UInt64 {
            guard !perState[t].isEmpty else { return 0 }
            var total: UInt64 = 0
            for c in 0..<ThreadTimeline.bucketCount { total = total.adding(saturating: perState[t][c * 8].adding(saturating: perState[t][c * 8 + 1])) }
            return total
        }
        let chosen = (0..<tracked).filter { !perState[$0].isEmpty }
            .sorted { (busy($0), -$0) > (busy($1), -$1) }.prefix(ThreadTimeline.threadLimit).sorted()
        let rows = chosen.map { t -> ThreadTimeline.Row in
            let info = tables.threads[t]
            let pid = tables.processes.indices.contains(info.process) ? tables.processes[info.process].pid : 0
            var dominant: [Int] = []
            var lockHeld: [Int] = []
            for c in 0..<ThreadTimeline.bucketCount {
                let column = perState[t][(c * 8)..<(c * 8 + 8)]
                let total = column.saturatingSum
                dominant.append(total == 0 ? -1 : column.indices.max { column[$0] < column[$1] }.map { $0 - c * 8 } ?? -1)
                let h = held[t].isEmpty ? 0 : held[t][c]
                lockHeld.append(Int(min(100, h.multiplied(saturating: 100) / width)))
            }
            return .init(thread: t, tid: info.tid, pid: pid, name: info.name, dominant: dominant, lockHeld: lockHeld)
        }
        return ThreadTimeline(startNanoseconds: start, bucketNanoseconds: width,
                              states: ["running with GIL", "running", "runnable", "lock/GIL wait", "sleeping", "child wait", "I/O", "other off-CPU"],
                              rows: rows)
    }
}
