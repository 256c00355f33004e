import GtraceAnalysis
import GtraceFormat

/// The one track model of an exported trace, computed in one streaming pass
/// and handed to a `TrackSink` (the Chrome JSON or the Perfetto protobuf
/// writer): process/thread metadata, slices for lock holds and waits,
/// instants for process and thread lifecycle, and (`SchedulingModel`) the
/// scheduling tracks, fork arrows, counters and thread states.
///
/// Slices on one track must nest. Holds of different locks can overlap
/// partially (lock A, lock B, unlock A, unlock B), so each thread has lanes:
/// lane 0 is the thread's own track, lane k > 0 an extra track named
/// "<thread> locks k" whose id is `tid | k << 22` (Linux tids are < 2^22).
/// A slice that would overlap a still-open later slice pushes that one to a
/// higher lane, so every lane is properly nested.
///
/// A CPython process also gets a "GIL" track (id `511 << 22 | pid`) with one
/// slice per hold, named after the holding thread, and flow arrows from each
/// release to the next acquisition by another thread; its threads get
/// "waiting for GIL" slices.
final class TrackModel {
    private let file: TraceFile
    private let sink: TrackSink
    @exclusivity(unchecked) private var lanes: [ThreadLanes]
    private var namedLanes: Set<Int64> = []
    /// Per GIL lock: the end of the last hold written and the thread that held it.
    private var lastGILHold: [Int: (end: UInt64, thread: Int)] = [:]
    private var flowID = 0
    private var gilWaiters: [Int: Int] = [:]
    /// Per thread waiting for the GIL: the counter value written when its wait began.
    private var gilWaitStartValue: [Int: Int?] = [:]
    static let gilTrackLane: Int64 = 511
    @exclusivity(unchecked) private(set) var sliceCount = 0

    private let filter: ChromeExportFilter
    /// Per thread: its process is exported.
    private let included: [Bool]
    private var scheduling: SchedulingModel
    /// Python code at each thread's GIL events (args of the GIL slices).
    private var python: ChromePythonLocations

    init(file: TraceFile, sink: TrackSink, filter: ChromeExportFilter = .everything) {
        self.file = file
        self.sink = sink
        self.filter = filter
        included = file.tables.threads.map { filter.accepts(pid: file.tables.processes[$0.process].pid) }
        lanes = Array(repeating: ThreadLanes(), count: file.tables.threads.count)
        scheduling = SchedulingModel(tables: file.tables, filter: filter)
        python = ChromePythonLocations(tables: file.tables)
    }

    /// Hands the whole model to the sink; returns the warnings met while reading.
    func run() throws -> [String] {
        let tables = file.tables
        try writeMetadata(tables)
        var tracker = LockIntervalTracker(tables: tables)
        var stream = file.events()
        var lastTime: UInt64 = 0
        var failure: Error?
        let handle: (LockIntervalTracker.Transition) -> Void = { transition in
            guard failure == nil else { return }
            do { try self.handle(transition) } catch { failure = error }
        }
        func process(_ event: TraceEvent) throws {
            lastTime = max(lastTime, event.time)
            try writeInstant(event, tables: tables)
            tracker.consume(event, handle)
            if let failure { throw failure }
            try scheduling.consume(event, into: sink)
        }
        // A GIL release waits for the Python location that follows it (same
        // thread, same time) so that its slice can name where it was released.
        var heldRelease: TraceEvent?
        while let event = stream.next() {
            if python.enabled { python.consume(event) }
            if let release = heldRelease {
                heldRelease = nil
                try process(release)
                if case .pythonLocation = event.kind, event.thread == release.thread { continue }
            }
            if python.enabled, ChromePythonLocations.isGILRelease(event, tables: tables) {
                heldRelease = event
                continue
            }
            try process(event)
        }
        if let release = heldRelease { try process(release) }
        tracker.finish(at: lastTime, handle)
        if let failure { throw failure }
        try scheduling.finish(at: max(lastTime, tables.clock.recordingEndNanoseconds), into: sink)
        sliceCount += scheduling.sliceCount
        return stream.warnings
    }

    private func pidTid(_ thread: Int) -> (pid: Int32, tid: Int32) {
        let t = file.tables.threads[thread]
        return (file.tables.processes[t.process].pid, t.tid)
    }

    /// Processes in tree order: each one followed by its children, by start time.
    static func treeOrder(_ processes: [GtraceFormat.ProcessInfo]) -> [Int] {
        var children: [Int: [Int]] = [:]
        var roots: [Int] = []
        for p in processes {
            if let parent = p.parent, processes.indices.contains(parent), parent != p.index {
                children[parent, default: []].append(p.index)
            } else {
                roots.append(p.index)
            }
        }
        var order: [Int] = []
        var seen: Set<Int> = []
        func visit(_ i: Int) {
            guard seen.insert(i).inserted else { return }
            order.append(i)
            for c in (children[i] ?? []).sorted(by: { (processes[$0].startNanoseconds, $0) < (processes[$1].startNanoseconds, $1) }) { visit(c) }
        }
        for r in roots.sorted(by: { (processes[$0].startNanoseconds, $0) < (processes[$1].startNanoseconds, $1) }) { visit(r) }
        return order
    }

    private func writeMetadata(_ tables: TraceTables) throws {
        // One pid can have several images (exec): the program it became names it.
        var lastImage: [Int32: GtraceFormat.ProcessInfo] = [:]
        for p in tables.processes where lastImage[p.pid].map({ $0.image < p.image }) ?? true { lastImage[p.pid] = p }
        var named: Set<Int32> = []
        for (position, index) in Self.treeOrder(tables.processes).enumerated() {
            let first = tables.processes[index]
            guard filter.accepts(pid: first.pid), named.insert(first.pid).inserted else { continue }
            let p = lastImage[first.pid] ?? first
            let name = "\(p.shortName) \(p.pid)" + (p.image > 0 ? " (after \(p.image) exec)" : "")
            try sink.process(p, name: name, sortIndex: position)
        }
        for t in tables.threads where included[t.index] {
            let pid = tables.processes[t.process].pid
            let name = t.name.isEmpty ? "thread \(t.tid)" : t.name
            // Main thread first, then threads in creation order.
            let order = t.tid == pid ? 0 : t.index + 1
            try sink.track(TrackRef(pid: pid, id: Int64(t.tid), thread: t.index, kind: .thread), name: name, sortIndex: order * 64)
        }
    }

    private func writeInstant(_ e: TraceEvent, tables: TraceTables) throws {
        guard included.indices.contains(e.thread), included[e.thread], filter.accepts(time: e.time) else { return }
        let name: String
        var args: [TrackArg] = []
        switch e.kind {
        case .processStart:
            name = "process start"
        case let .processExit(kind, status):
            name = "process exit"
            args = [TrackArg("how", kind.label), TrackArg("status", status)]
        case let .threadStart(creator):
            name = "thread start"
            if let creator, tables.threads.indices.contains(creator) { args = [TrackArg("creator_tid", tables.threads[creator].tid)] }
        case let .threadEnd(kind, cpu):
            name = "thread end"
            args = [TrackArg("how", kind.label), TrackArg("cpu_ns", cpu)]
        case let .fork(childPid):
            name = "fork"
            args = [TrackArg("child_pid", childPid)]
        case .exec:
            name = "exec"
        default:
            return
        }
        let (pid, tid) = pidTid(e.thread)
        try sink.instant(TrackRef(pid: pid, id: Int64(tid), thread: e.thread, kind: .thread), time: e.time, name: name,
                         processScope: false, args: args)
    }

    private func handle(_ transition: LockIntervalTracker.Transition) throws {
        switch transition {
        case let .holdBegan(thread, lock, time, contended, _, _, previousOwner):
            scheduling.acquired(thread: thread, lock: lock, contended: contended, previousOwner: previousOwner)
            if isGIL(lock) { return }  // GIL holds go on the process's GIL track
            lanes[thread].open(.init(kind: 0, lock: lock), at: time)
        case let .waitBegan(thread, lock, time):
            lanes[thread].open(.init(kind: 1, lock: lock), at: time)
            if isGIL(lock) { gilWaitStartValue[thread] = try countGILWaiter(lock: lock, thread: thread, change: 1, at: time, onSlice: true) }
        case let .conditionWaitBegan(thread, condition, time):
            lanes[thread].open(.init(kind: 2, lock: condition), at: time)
        case .trylockBusy, .reacquired:
            break
        case let .closed(interval):
            if case .hold = interval.kind { scheduling.released(interval) }
            if case .wait = interval.kind, isGIL(interval.lock) {
                // The counter's values at the wait's start and end also travel with its slice.
                let end = included[interval.thread] && filter.accepts(time: interval.end) ? max(0, (gilWaiters[interval.lock] ?? 0) - 1) : nil
                try writeSlice(interval, gilWaiting: (gilWaitStartValue.removeValue(forKey: interval.thread) ?? nil, end))
                _ = try countGILWaiter(lock: interval.lock, thread: interval.thread, change: -1, at: interval.end, onSlice: true)
            } else {
                try writeSlice(interval, gilWaiting: nil)
            }
        }
        try scheduling.drainWakings(into: sink)
    }

    /// The "threads waiting for the GIL" counter of the GIL's process; returns the value written, if any.
    private func countGILWaiter(lock: Int, thread: Int, change: Int, at time: UInt64, onSlice: Bool) throws -> Int? {
        gilWaiters[lock, default: 0] += change
        let pid = pidTid(thread).pid
        guard included[thread], filter.accepts(time: time) else { return nil }
        let value = max(0, gilWaiters[lock] ?? 0)
        try sink.counter(pid: pid, name: "threads waiting for the GIL", key: "waiting", time: time, value: value, onSlice: onSlice)
        return value
    }

    private func isGIL(_ lock: Int) -> Bool {
        file.tables.locks.indices.contains(lock) && file.tables.locks[lock].kind == .gil
    }

    /// A GIL hold: a slice on the process's GIL track, and a flow arrow from
    /// the previous holder's release when another thread held it last.
    private func writeGILHold(_ interval: LockInterval) throws {
        let (pid, _) = pidTid(interval.thread)
        // Holds never overlap; clamp the few-ns TSC skew between CPUs so the track stays valid.
        let previous = lastGILHold[interval.lock]
        let held = (start: max(interval.start, previous?.end ?? 0), end: max(interval.end, max(interval.start, previous?.end ?? 0)))
        lastGILHold[interval.lock] = (held.end, interval.thread)
        guard included[interval.thread], let (start, end) = filter.clip(held.start, held.end) else { return }
        let track = TrackRef(pid: pid, id: Self.gilTrackLane << 22 | Int64(pid), thread: interval.thread, kind: .gil)
        if !namedLanes.contains(Int64(pid) << 32 | track.id) {
            namedLanes.insert(Int64(pid) << 32 | track.id)
            try sink.track(track, name: "GIL", sortIndex: -1)
        }
        sliceCount += 1
        try sink.gilHold(track, start: start, end: end, thread: interval.thread, acquiredAt: python.acquiredAt[interval.thread],
                         releasedAt: interval.closedByEnd ? nil : python.releasedAt[interval.thread])
        if let previous, previous.thread != interval.thread, previous.end > 0, filter.accepts(time: previous.end - 1),
           start == held.start {
            flowID += 1
            try sink.flow(id: flowID, name: "GIL hand-off", category: "gil", from: track, at: previous.end - 1, to: track, at: start)
        }
    }

    private func writeSlice(_ interval: LockInterval, gilWaiting: (start: Int?, end: Int?)?) throws {
        let key: ThreadLanes.Key
        let lock = file.tables.locks[interval.lock]
        let gil = lock.kind == .gil
        let prefix: StaticString
        let category: StaticString
        switch interval.kind {
        case .hold where gil:
            try writeGILHold(interval)
            return
        case .hold:
            key = .init(kind: 0, lock: interval.lock)
            prefix = interval.flags.contains(.rwlock) ? (interval.flags.contains(.shared) ? "read-hold " : "write-hold ") : "hold "
            category = "lock"
        case let .wait(acquired):
            key = .init(kind: 1, lock: interval.lock)
            prefix = gil ? "waiting for GIL" : (acquired ? "wait " : "wait (failed) ")
            category = gil ? "gil-wait" : "lock-wait"
        case .conditionWait:
            key = .init(kind: 2, lock: interval.lock)
            prefix = "cond wait "
            category = "cond-wait"
        }
        let lane = lanes[interval.thread].close(key)
        let (pid, tid) = pidTid(interval.thread)
        guard included[interval.thread], let (start, end) = filter.clip(interval.start, interval.end) else { return }
        let laneTid = Int64(tid) | (Int64(lane) << 22)
        let track = TrackRef(pid: pid, id: laneTid, thread: interval.thread, kind: lane > 0 ? .lockLane(lane) : .thread)
        if lane > 0 && !namedLanes.contains(Int64(pid) << 32 | laneTid) {
            namedLanes.insert(Int64(pid) << 32 | laneTid)
            let threadName = file.tables.threads[interval.thread].name
            try sink.track(track, name: "\(threadName.isEmpty ? "thread \(tid)" : threadName) locks \(lane)", sortIndex: nil)
        }
        sliceCount += 1
        try sink.lockSlice(track, start: start, end: end, interval: interval, prefix: prefix, category: category,
                           labelled: !(gil && key.kind == 1),
                           counter: gilWaiting.map { (start == interval.start ? $0.start : nil, end == interval.end ? $0.end : nil) },
                           askedAt: gil && key.kind == 1 ? python.releasedAt[interval.thread] : nil)
    }
}

/// Lane assignment for one thread's open slices (see TrackModel).
struct ThreadLanes {
    struct Key: Hashable {
        var kind: Int
        var lock: Int
    }

    private struct Open {
        var key: Key
        var sequence: Int
        var minimumLane: Int
    }

    private var open: [Open] = []
    private var sequence = 0

    mutating func open(_ key: Key, at time: UInt64) {
        sequence += 1
        open.append(Open(key: key, sequence: sequence, minimumLane: 0))
    }

    /// Closes the slice `key` and returns its lane; slices opened after it and
    /// still open move above that lane.
    mutating func close(_ key: Key) -> Int {
        guard let index = open.lastIndex(where: { $0.key == key }) else { return 0 }
        let closing = open.remove(at: index)
        let lane = closing.minimumLane
        for i in open.indices where open[i].sequence > closing.sequence && open[i].minimumLane <= lane {
            open[i].minimumLane = lane + 1
        }
        return lane
    }
}
