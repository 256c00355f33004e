import Foundation

/// Events the runtime counted as lost instead of recording them, by cause
/// (docs/RECORDING.md, "What is lost, and how the report says so").
struct RuntimeLoss {
    struct Broken {
        var events: UInt64 = 0
        var threads = 0
        var pids: Set<Int32> = []
        /// Earliest last record of a thread that lost everything after it (trace time).
        var from = UInt64.max
    }
    /// Dropped one by one: a signal handler recorded while its thread switched buffers.
    private(set) var nested: UInt64 = 0
    /// Threads that could not get a further buffer chunk, by errno: everything after is lost.
    private(set) var broken: [Int32: Broken] = [:]

    var total: UInt64 { broken.values.reduce(nested) { $0 &+ $1.events } }
    var from: UInt64? { broken.values.map(\.from).min() }

    mutating func add(lost: UInt64, brokenErrno: Int32, lastRecord: UInt64, pid: Int32) {
        guard brokenErrno != 0 else {
            nested &+= lost
            return
        }
        var entry = broken[brokenErrno] ?? Broken()
        entry.events &+= lost
        entry.threads += 1
        entry.pids.insert(pid)
        entry.from = min(entry.from, lastRecord)
        broken[brokenErrno] = entry
    }

    /// One sentence per cause, for the recorder's warnings and the trace's info.
    var causes: [String] {
        var lines: [String] = []
        for (code, entry) in broken.sorted(by: { $0.key < $1.key }) {
            let pids = entry.pids.sorted().prefix(5).map(String.init).joined(separator: ", ") + (entry.pids.count > 5 ? ", …" : "")
            let why = code == EDQUOT ? "the buffer budget (GTRACE_MAX_MB) was reached"
                : "a buffer chunk could not be created (\(String(cString: strerror(code))))"
            lines.append("\(entry.events) events lost by \(entry.threads) thread\(entry.threads == 1 ? "" : "s") of process\(entry.pids.count == 1 ? "" : "es") \(pids): \(why); each recorded nothing after that")
        }
        if nested > 0 {
            lines.append("\(nested) events dropped one by one: a signal handler recorded while its thread switched buffers")
        }
        return lines
    }
}
