import GtraceFormat

/// What part of a trace to export, to keep big traces loadable in a viewer:
/// a time window, some processes, and a cap on the number of JSON events.
public struct ChromeExportFilter: Sendable {
    /// Trace time (ns since the epoch) of the window's start and end; slices
    /// crossing an edge are cut at it.
    public var from: UInt64?
    public var to: UInt64?
    /// Only these pids (nil: all).
    public var pids: Set<Int32>?
    /// At most this many JSON events (nil: no cap); the rest are dropped and the export says so.
    public var maxEvents: Int?

    public init(from: UInt64? = nil, to: UInt64? = nil, pids: Set<Int32>? = nil, maxEvents: Int? = nil) {
        self.from = from
        self.to = to
        self.pids = pids
        self.maxEvents = maxEvents
    }

    public static let everything = ChromeExportFilter()

    func accepts(pid: Int32) -> Bool { pids?.contains(pid) ?? true }

    func accepts(time: UInt64) -> Bool {
        (from.map { time >= $0 } ?? true) && (to.map { time <= $0 } ?? true)
    }

    /// The part of [start, end] inside the window, nil when none is.
    func clip(_ start: UInt64, _ end: UInt64) -> (start: UInt64, end: UInt64)? {
        let s = max(start, from ?? 0), e = min(end, to ?? UInt64.max)
        return e >= s ? (s, e) : nil
    }
}
