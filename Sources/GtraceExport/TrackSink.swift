import GtraceAnalysis
import GtraceFormat

/// The tracks of an exported trace (docs/EXPORT.md): each thread's own track,
/// its extra lock lanes, its CPU/blocked/process tracks, and a process's GIL
/// track. `id` is the track's Chrome JSON "tid" (the thread's tid, or
/// `tid | lane << 22` for the extra tracks, `511 << 22 | pid` for the GIL).
public struct TrackRef: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case thread
        /// An extra lane for lock slices that overlap without nesting (1, 2, …).
        case lockLane(Int)
        case gil
        case cpu
        case blocked
        case process
    }

    public var pid: Int32
    public var id: Int64
    /// The thread index the track belongs to (for the GIL track: the process's first thread seen).
    public var thread: Int
    public var kind: Kind
}

/// One argument of a slice or instant, in the order the JSON writes them.
public struct TrackArg: Sendable {
    public enum Value: Sendable {
        case int(Int64)
        case string(String)
        case bool(Bool)
    }

    public var key: StaticString
    public var value: Value

    public init(_ key: StaticString, _ value: Int64) { self.key = key; self.value = .int(value) }
    public init(_ key: StaticString, _ value: Int) { self.key = key; self.value = .int(Int64(value)) }
    public init(_ key: StaticString, _ value: UInt64) { self.key = key; self.value = .int(Int64(bitPattern: value)) }
    public init(_ key: StaticString, _ value: Int32) { self.key = key; self.value = .int(Int64(value)) }
    public init(_ key: StaticString, _ value: String) { self.key = key; self.value = .string(value) }
    public init(_ key: StaticString, _ value: Bool) { self.key = key; self.value = .bool(value) }
}

/// Why a thread left its CPU, for the thread-state view.
public enum OffCPUState: Sendable {
    /// Preempted: still runnable.
    case runnable
    /// Waiting for a lock, the GIL, a condition, a sleep or a child.
    case sleeping
    /// Inside a blocking I/O call (read, poll, accept, …).
    case io
}

/// A serializer of the shared track model: `TrackModel` computes which tracks,
/// slices, flows and counters a trace has, once, and hands each one to a sink
/// in one streaming pass; the Chrome JSON and Perfetto protobuf writers are
/// sinks that only encode what they are given.
///
/// Calls arrive in the order the JSON file lists its objects. A slice is
/// reported when it ends; a flow after both of its slices.
protocol TrackSink: AnyObject {
    /// A process: its display name and its place in the tree order.
    func process(_ process: GtraceFormat.ProcessInfo, name: String, sortIndex: Int) throws
    /// A track, before its first slice. `sortIndex` nil: keep the viewer's order.
    func track(_ track: TrackRef, name: String, sortIndex: Int?) throws
    /// A lifecycle mark (thread start, fork, exit, …); `processScope` marks the whole process.
    func instant(_ track: TrackRef, time: UInt64, name: String, processScope: Bool, args: [TrackArg]) throws
    func slice(_ track: TrackRef, start: UInt64, end: UInt64, name: String, category: StaticString, args: [TrackArg]) throws
    /// A lock hold or wait (the hot path): named `prefix` + the lock's label when `labelled`.
    /// For a GIL wait, `counter` holds the "threads waiting for the GIL" values
    /// at its start and end (also given by `counter(…, onSlice: true)` calls).
    func lockSlice(_ track: TrackRef, start: UInt64, end: UInt64, interval: LockInterval,
                   prefix: StaticString, category: StaticString, labelled: Bool, counter: (start: Int?, end: Int?)?,
                   askedAt: [UInt8]?) throws
    /// A GIL hold on the process's GIL track, named after the holding thread.
    /// The Python locations (`askedAt` of a GIL wait: where the thread last
    /// released it) are JSON string contents, "spin app.py:5 ← worker app.py:13".
    func gilHold(_ track: TrackRef, start: UInt64, end: UInt64, thread: Int, acquiredAt: [UInt8]?, releasedAt: [UInt8]?) throws
    /// An arrow from the slice of `from` enclosing `fromTime` to the slice of `to` enclosing `toTime`.
    func flow(id: Int, name: StaticString, category: StaticString, from: TrackRef, at fromTime: UInt64,
              to: TrackRef, at toTime: UInt64) throws
    /// A new value of one of the process's counters; `onSlice`: the value also
    /// comes with the slice that starts or ends then (a sink may store it there).
    func counter(pid: Int32, name: StaticString, key: StaticString, time: UInt64, value: Int, onSlice: Bool) throws
    /// The scheduler took `thread` off `cpu` (perf), and why.
    func switchOut(thread: Int, cpu: Int, time: UInt64, state: OffCPUState) throws
    /// The scheduler put `thread` on `cpu`.
    func switchIn(thread: Int, cpu: Int, time: UInt64) throws
    /// `waker` (running on `cpu`) made the sleeping `thread` runnable: a lock
    /// or GIL hand-off (the release that let the thread acquire).
    func waking(thread: Int, waker: Int, cpu: Int, time: UInt64) throws
}

extension TrackSink {
    func switchOut(thread: Int, cpu: Int, time: UInt64, state: OffCPUState) throws {}
    func switchIn(thread: Int, cpu: Int, time: UInt64) throws {}
    func waking(thread: Int, waker: Int, cpu: Int, time: UInt64) throws {}
}
