import GtraceAnalysis
import GtraceFormat

/// Writes Chrome Trace Event JSON (`{"traceEvents": [...]}`) in one streaming
/// pass: process/thread metadata, `X` slices for lock holds and waits, and
/// instants for process and thread lifecycle. Times are µs with ns precision;
/// pids and tids are the OS ids. Output is deterministic for a given trace.
///
/// Slices on one track must nest. Holds of different locks can overlap
/// partially (lock A, lock B, unlock A, unlock B), so each thread has lanes:
/// lane 0 is the thread's own track, lane k > 0 an extra track named
/// "<thread> locks k" whose tid is `tid | k << 22` (Linux tids are < 2^22).
/// A slice that would overlap a still-open later slice pushes that one to a
/// higher lane, so every lane is properly nested.
///
/// A CPython process also gets a "GIL" track (tid `511 << 22 | pid`) with one
/// slice per hold, named after the holding thread, and flow arrows from each
/// release to the next acquisition by another thread; its threads get
/// "waiting for GIL" slices.
public final class ChromeTraceWriter {
    private let file: TraceFile
    private let output: FileOutput
    private let events: JSONEventWriter
    @exclusivity(unchecked) private var lanes: [ThreadLanes]
    /// Escaped names written again and again: per thread, per lock address.
    @exclusivity(unchecked) private var threadNames: [[UInt8]?]
    /// Lock addresses as ASCII hex ("0x55…"), and lock labels (the symbol name, else the address) as JSON string contents.
    @exclusivity(unchecked) private var lockAddresses: [[UInt8]?]
    @exclusivity(unchecked) private var lockLabels: [[UInt8]?]
    private var namedLanes: Set<Int64> = []
    @exclusivity(unchecked) public private(set) var sliceCount = 0
    /// Per GIL lock: the end of the last hold written and the thread that held it.
    private var lastGILHold: [Int: (end: UInt64, thread: Int)] = [:]
    private var flowID = 0
    private var gilWaiters: [Int: Int] = [:]
    static let gilTrackLane: Int64 = 511
    /// Python code at each thread's GIL events (args of the GIL slices).
    private var python: ChromePythonLocations

    private let filter: ChromeExportFilter
    /// Per thread: its process is exported.
    private let included: [Bool]

    public init(file: TraceFile, output: FileOutput, filter: ChromeExportFilter = .everything) {
        self.file = file
        self.output = output
        self.filter = filter
        included = file.tables.threads.map { filter.accepts(pid: file.tables.processes[$0.process].pid) }
        events = JSONEventWriter(output: output, maximumEvents: filter.maxEvents)
        lanes = Array(repeating: ThreadLanes(), count: file.tables.threads.count)
        threadNames = Array(repeating: nil, count: file.tables.threads.count)
        lockAddresses = Array(repeating: nil, count: file.tables.locks.count)
        lockLabels = Array(repeating: nil, count: file.tables.locks.count)
        python = ChromePythonLocations(tables: file.tables)
    }

    /// JSON events left out by `filter.maxEvents`, and those written.
    public var droppedEvents: Int { events.droppedCount }
    public var writtenEvents: Int { events.eventCount }

    /// Writes the whole document and returns the warnings met while reading.
    public func write() throws -> [String] {
        let tables = file.tables
        try output.write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")
        try writeMetadata(tables)
        var tracker = LockIntervalTracker(tables: tables)
        var stream = file.events()
        var lastTime: UInt64 = 0
        var failure: Error?
        let handle: (LockIntervalTracker.Transition) -> Void = { transition in
            guard failure == nil else { return }
            do { try self.handle(transition) } catch { failure = error }
        }
        var scheduling = ChromeSchedulingTracks(tables: tables, filter: filter)
        func process(_ event: TraceEvent) throws {
            lastTime = max(lastTime, event.time)
            try writeInstant(event, tables: tables)
            tracker.consume(event, handle)
            if let failure { throw failure }
            try scheduling.consume(event, into: events)
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
        try scheduling.finish(at: max(lastTime, tables.clock.recordingEndNanoseconds), into: events)
        sliceCount += scheduling.sliceCount
        try events.flush()
        try output.write("\n]}\n")
        try output.flush()
        return stream.warnings
    }

    private func emit(_ json: String) throws {
        try events.object(json)
    }

    private func threadName(_ thread: Int) -> [UInt8] {
        if let cached = threadNames[thread] { return cached }
        let t = file.tables.threads[thread]
        let name = JSONText.encoded(t.name.isEmpty ? "thread \(t.tid)" : t.name)
        threadNames[thread] = name
        return name
    }

    private func lockAddress(_ lock: Int) -> [UInt8] {
        if let cached = lockAddresses[lock] { return cached }
        let address = Array(file.tables.locks[lock].addressText.utf8)
        lockAddresses[lock] = address
        return address
    }

    /// The lock's name from the trace's symbols (escaped, without quotes), else its address.
    private func lockLabel(_ lock: Int) -> [UInt8] {
        if let cached = lockLabels[lock] { return cached }
        var label = lockAddress(lock)
        if let name = file.tables.lockNames.first(where: { $0.lock == lock })?.name {
            label = Array(JSONText.encoded(name).dropFirst().dropLast())
        }
        lockLabels[lock] = label
        return label
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
            try emit("{\"ph\":\"M\",\"pid\":\(p.pid),\"tid\":\(p.pid),\"name\":\"process_name\",\"args\":{\"name\":\(JSONText.string(name))}}")
            try emit("{\"ph\":\"M\",\"pid\":\(p.pid),\"tid\":\(p.pid),\"name\":\"process_sort_index\",\"args\":{\"sort_index\":\(position)}}")
        }
        for t in tables.threads where included[t.index] {
            let pid = tables.processes[t.process].pid
            let name = t.name.isEmpty ? "thread \(t.tid)" : t.name
            // Main thread first, then threads in creation order.
            let order = t.tid == pid ? 0 : t.index + 1
            try emit("{\"ph\":\"M\",\"pid\":\(pid),\"tid\":\(t.tid),\"name\":\"thread_name\",\"args\":{\"name\":\(JSONText.string(name))}}")
            try emit("{\"ph\":\"M\",\"pid\":\(pid),\"tid\":\(t.tid),\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":\(order * 64)}}")
        }
    }

    private func writeInstant(_ e: TraceEvent, tables: TraceTables) throws {
        guard included.indices.contains(e.thread), included[e.thread], filter.accepts(time: e.time) else { return }
        let name: String
        var args = ""
        switch e.kind {
        case .processStart:
            name = "process start"
        case let .processExit(kind, status):
            name = "process exit"
            args = ",\"args\":{\"how\":\(JSONText.string(kind.label)),\"status\":\(status)}"
        case let .threadStart(creator):
            name = "thread start"
            if let creator, tables.threads.indices.contains(creator) { args = ",\"args\":{\"creator_tid\":\(tables.threads[creator].tid)}" }
        case let .threadEnd(kind, cpu):
            name = "thread end"
            args = ",\"args\":{\"how\":\(JSONText.string(kind.label)),\"cpu_ns\":\(cpu)}"
        case let .fork(childPid):
            name = "fork"
            args = ",\"args\":{\"child_pid\":\(childPid)}"
        case .exec:
            name = "exec"
        default:
            return
        }
        let (pid, tid) = pidTid(e.thread)
        try emit("{\"ph\":\"i\",\"s\":\"t\",\"pid\":\(pid),\"tid\":\(tid),\"ts\":\(JSONText.microseconds(e.time)),\"name\":\(JSONText.string(name))\(args)}")
    }

    private func handle(_ transition: LockIntervalTracker.Transition) throws {
        switch transition {
        case let .holdBegan(thread, lock, time, _, _, _):
            if isGIL(lock) { return }  // GIL holds go on the process's GIL track
            lanes[thread].open(.init(kind: 0, lock: lock), at: time)
        case let .waitBegan(thread, lock, time):
            lanes[thread].open(.init(kind: 1, lock: lock), at: time)
            if isGIL(lock) { try countGILWaiter(lock: lock, thread: thread, change: 1, at: time) }
        case let .conditionWaitBegan(thread, condition, time):
            lanes[thread].open(.init(kind: 2, lock: condition), at: time)
        case .trylockBusy:
            break
        case let .closed(interval):
            try writeSlice(interval)
            if case .wait = interval.kind, isGIL(interval.lock) {
                try countGILWaiter(lock: interval.lock, thread: interval.thread, change: -1, at: interval.end)
            }
        }
    }

    /// The "threads waiting for the GIL" counter of the GIL's process.
    private func countGILWaiter(lock: Int, thread: Int, change: Int, at time: UInt64) throws {
        gilWaiters[lock, default: 0] += change
        let pid = pidTid(thread).pid
        guard included[thread], filter.accepts(time: time) else { return }
        try emit("{\"ph\":\"C\",\"pid\":\(pid),\"tid\":\(pid),\"ts\":\(JSONText.microseconds(time)),\"name\":\"threads waiting for the GIL\",\"args\":{\"waiting\":\(max(0, gilWaiters[lock] ?? 0))}}")
    }

    private func isGIL(_ lock: Int) -> Bool {
        file.tables.locks.indices.contains(lock) && file.tables.locks[lock].kind == .gil
    }

    /// A GIL hold: a slice on the process's GIL track, and a flow arrow from
    /// the previous holder's release when another thread held it last.
    private func writeGILHold(_ interval: LockInterval) throws {
        let (pid, tid) = pidTid(interval.thread)
        // Holds never overlap; clamp the few-ns TSC skew between CPUs so the track stays valid.
        let previous = lastGILHold[interval.lock]
        let held = (start: max(interval.start, previous?.end ?? 0), end: max(interval.end, max(interval.start, previous?.end ?? 0)))
        lastGILHold[interval.lock] = (held.end, interval.thread)
        guard included[interval.thread], let (start, end) = filter.clip(held.start, held.end) else { return }
        let track = Self.gilTrackLane << 22 | Int64(pid)
        if !namedLanes.contains(Int64(pid) << 32 | track) {
            namedLanes.insert(Int64(pid) << 32 | track)
            try emit("{\"ph\":\"M\",\"pid\":\(pid),\"tid\":\(track),\"name\":\"thread_name\",\"args\":{\"name\":\"GIL\"}}")
            try emit("{\"ph\":\"M\",\"pid\":\(pid),\"tid\":\(track),\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":-1}}")
        }
        sliceCount += 1
        events.begin()
        events.raw("\"ph\":\"X\",\"pid\":")
        events.int(Int64(pid))
        events.raw(",\"tid\":")
        events.int(track)
        events.raw(",\"ts\":")
        events.microseconds(start)
        events.raw(",\"dur\":")
        events.microseconds(end - start)
        events.raw(",\"name\":")
        events.encoded(threadName(interval.thread))
        events.raw(",\"cat\":\"gil\",\"args\":{\"tid\":")
        events.int(Int64(tid))
        events.raw(",\"duration_ns\":")
        events.uint(end - start)
        if let at = python.acquiredAt[interval.thread] {
            events.raw(",\"python_acquired_at\":\"")
            events.encoded(at)
            events.raw("\"")
        }
        if let at = python.releasedAt[interval.thread], !interval.closedByEnd {
            events.raw(",\"python_released_at\":\"")
            events.encoded(at)
            events.raw("\"")
        }
        events.raw("}")
        try events.end()
        if let previous, previous.thread != interval.thread, previous.end > 0, filter.accepts(time: previous.end - 1),
           start == held.start {
            flowID += 1
            try emit("{\"ph\":\"s\",\"pid\":\(pid),\"tid\":\(track),\"ts\":\(JSONText.microseconds(previous.end - 1)),\"id\":\(flowID),\"name\":\"GIL hand-off\",\"cat\":\"gil\"}")
            try emit("{\"ph\":\"f\",\"bp\":\"e\",\"pid\":\(pid),\"tid\":\(track),\"ts\":\(JSONText.microseconds(start)),\"id\":\(flowID),\"name\":\"GIL hand-off\",\"cat\":\"gil\"}")
        }
    }

    private func writeSlice(_ interval: LockInterval) throws {
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
        if lane > 0 && !namedLanes.contains(Int64(pid) << 32 | laneTid) {
            namedLanes.insert(Int64(pid) << 32 | laneTid)
            let threadName = file.tables.threads[interval.thread].name
            try emit("{\"ph\":\"M\",\"pid\":\(pid),\"tid\":\(laneTid),\"name\":\"thread_name\",\"args\":{\"name\":\(JSONText.string("\(threadName.isEmpty ? "thread \(tid)" : threadName) locks \(lane)"))}}")
        }
        sliceCount += 1
        let address = lockAddress(interval.lock)
        events.begin()
        events.raw("\"ph\":\"X\",\"pid\":")
        events.int(Int64(pid))
        events.raw(",\"tid\":")
        events.int(laneTid)
        events.raw(",\"ts\":")
        events.microseconds(start)
        events.raw(",\"dur\":")
        events.microseconds(end - start)
        events.raw(",\"name\":\"")
        events.raw(prefix)
        if !(gil && key.kind == 1) { events.encoded(lockLabel(interval.lock)) }
        events.raw("\",\"cat\":\"")
        events.raw(category)
        events.raw("\",\"args\":{\"lock\":\"")
        events.encoded(address)
        if lockLabels[interval.lock].map({ $0 != address }) ?? false {
            events.raw("\",\"lock_name\":\"")
            events.encoded(lockLabel(interval.lock))
        }
        events.raw("\",\"duration_ns\":")
        events.uint(interval.duration)
        if gil, key.kind == 1, let at = python.releasedAt[interval.thread] {
            events.raw(",\"python_asked_at\":\"")
            events.encoded(at)
            events.raw("\"")
        }
        if interval.closedByEnd { events.raw(",\"open_at_end\":true") }
        events.raw("}")
        try events.end()
    }
}

/// Lane assignment for one thread's open slices (see ChromeTraceWriter).
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
