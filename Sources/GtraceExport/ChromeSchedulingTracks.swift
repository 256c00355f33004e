import GtraceAnalysis
import GtraceFormat

/// The scheduling part of the Chrome trace: per thread a "CPU" track (on-CPU
/// and runnable slices, from perf) and a "blocked" track (one slice per
/// blocking call, named by the call), fork→child flow arrows, and a counter
/// of runnable threads. Each track holds one kind of slice, so nothing on it
/// overlaps. Returns JSON objects for the writer to emit.
struct ChromeSchedulingTracks {
    static let cpuLane: Int64 = 508
    static let blockedLane: Int64 = 509
    /// Short "fork" / "started by fork" slices that the fork arrows attach to
    /// (a flow event needs an enclosing slice, or the UI drops it).
    static let processLane: Int64 = 510
    static let markNanoseconds: UInt64 = 1000

    private let tables: TraceTables
    private var onCPUSince: [UInt64?]
    private var cpuOf: [Int]
    private var runnableSince: [UInt64?]
    private var openCall: [(call: BlockingCall, small: UInt32, argument: UInt64, time: UInt64)?]
    private var named: Set<Int64> = []
    private var runnable = 0
    private var flowID = 1_000_000_000  // apart from the GIL hand-off ids
    private let counterPid: Int32
    private(set) var sliceCount = 0

    private let filter: ChromeExportFilter

    init(tables: TraceTables, filter: ChromeExportFilter = .everything) {
        self.tables = tables
        self.filter = filter
        onCPUSince = Array(repeating: nil, count: tables.threads.count)
        cpuOf = Array(repeating: 0, count: tables.threads.count)
        runnableSince = Array(repeating: nil, count: tables.threads.count)
        openCall = Array(repeating: nil, count: tables.threads.count)
        counterPid = tables.processes.first?.pid ?? 0
    }

    private func ids(_ thread: Int) -> (pid: Int32, tid: Int32) {
        let t = tables.threads[thread]
        return (tables.processes[t.process].pid, t.tid)
    }

    private mutating func track(_ thread: Int, lane: Int64, label: String, into events: JSONEventWriter) throws -> Int64 {
        let (pid, tid) = ids(thread)
        let track = Int64(tid) | lane << 22
        if named.insert(Int64(pid) << 32 | track).inserted {
            let name = tables.threads[thread].name.isEmpty ? "thread \(tid)" : tables.threads[thread].name
            let order = (tid == pid ? 0 : thread + 1) * 64 + (lane == Self.cpuLane ? 1 : lane == Self.blockedLane ? 2 : 3)
            try events.object("{\"ph\":\"M\",\"pid\":\(pid),\"tid\":\(track),\"name\":\"thread_name\",\"args\":{\"name\":\(JSONText.string("\(name) \(label)"))}}")
            try events.object("{\"ph\":\"M\",\"pid\":\(pid),\"tid\":\(track),\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":\(order)}}")
        }
        return track
    }

    private mutating func slice(_ thread: Int, lane: Int64, label: String, name: String, category: String,
                                from start: UInt64, to end: UInt64, args: String, into events: JSONEventWriter) throws {
        guard end >= start, filter.accepts(pid: ids(thread).pid), let (start, end) = filter.clip(start, end) else { return }
        let track = try track(thread, lane: lane, label: label, into: events)
        let pid = ids(thread).pid
        sliceCount += 1
        try events.object("{\"ph\":\"X\",\"pid\":\(pid),\"tid\":\(track),\"ts\":\(JSONText.microseconds(start)),\"dur\":\(JSONText.microseconds(end - start)),\"name\":\(JSONText.string(name)),\"cat\":\"\(category)\",\"args\":{\(args)}}")
    }

    private mutating func counter(at time: UInt64, into events: JSONEventWriter) throws {
        guard filter.accepts(pid: counterPid), filter.accepts(time: time) else { return }
        try events.object("{\"ph\":\"C\",\"pid\":\(counterPid),\"tid\":\(counterPid),\"ts\":\(JSONText.microseconds(time)),\"name\":\"runnable threads\",\"args\":{\"runnable\":\(runnable)}}")
    }

    /// JSON objects for one event (often none).
    mutating func consume(_ e: TraceEvent, into events: JSONEventWriter) throws {
        let t = e.thread
        guard tables.threads.indices.contains(t) else { return }
        switch e.kind {
        case let .cpuIn(cpu):
            if let since = runnableSince[t] {
                try slice(t, lane: Self.cpuLane, label: "CPU", name: "runnable", category: "runnable", from: since, to: e.time,
                      args: "\"duration_ns\":\(e.time - min(since, e.time))", into: events)
                runnableSince[t] = nil
                runnable -= 1
                try counter(at: e.time, into: events)
            }
            onCPUSince[t] = e.time
            cpuOf[t] = cpu
        case let .cpuOut(cpu, preempted):
            let since = onCPUSince[t] ?? tables.threads[t].startNanoseconds
            try slice(t, lane: Self.cpuLane, label: "CPU", name: "CPU \(cpu)", category: "on-cpu", from: min(since, e.time), to: e.time,
                  args: "\"cpu\":\(cpu),\"duration_ns\":\(e.time - min(since, e.time))", into: events)
            onCPUSince[t] = nil
            if preempted {
                runnableSince[t] = e.time
                runnable += 1
                try counter(at: e.time, into: events)
            }
        case let .blockBegin(call, small, argument):
            openCall[t] = (call, small, argument, e.time)
        case let .blockEnd(call, result, detail):
            if let open = openCall[t], open.call == call {
                var args = "\"call\":\(JSONText.string(call.name)),\"result\":\(result),\"duration_ns\":\(e.time - min(open.time, e.time))"
                if call.isWaitForChild { args += ",\"wait_status\":\(detail)" }
                try slice(t, lane: Self.blockedLane, label: "blocked", name: call.label(smallArgument: open.small, argument: open.argument),
                      category: "blocked-" + call.category(smallArgument: open.small).rawValue, from: open.time, to: e.time,
                      args: args, into: events)
            }
            openCall[t] = nil
        case let .fork(childPid):
            // An arrow from a "fork" mark on the parent to a "started by fork" mark on the child's first thread.
            guard let child = tables.processes.first(where: { $0.pid == childPid && $0.startNanoseconds >= e.time &- 1_000_000 }),
                  let childThread = tables.threads.firstIndex(where: { $0.process == child.index && $0.tid == child.pid }) else { break }
            let childStart = max(child.startNanoseconds, e.time)
            try slice(t, lane: Self.processLane, label: "process", name: "fork \(childPid)", category: "process",
                  from: e.time, to: e.time + Self.markNanoseconds, args: "\"child_pid\":\(childPid)", into: events)
            try slice(childThread, lane: Self.processLane, label: "process", name: "started by fork", category: "process",
                  from: childStart, to: childStart + Self.markNanoseconds, args: "\"parent_pid\":\(ids(t).pid)", into: events)
            guard filter.accepts(pid: ids(t).pid), filter.accepts(pid: child.pid), filter.accepts(time: e.time),
                  filter.accepts(time: childStart + Self.markNanoseconds) else { break }
            let parentTrack = Int64(ids(t).tid) | Self.processLane << 22
            let childTrack = Int64(child.pid) | Self.processLane << 22
            flowID += 1
            try events.object("{\"ph\":\"s\",\"pid\":\(ids(t).pid),\"tid\":\(parentTrack),\"ts\":\(JSONText.microseconds(e.time + Self.markNanoseconds / 2)),\"id\":\(flowID),\"name\":\"fork\",\"cat\":\"process\"}")
            try events.object("{\"ph\":\"f\",\"bp\":\"e\",\"pid\":\(child.pid),\"tid\":\(childTrack),\"ts\":\(JSONText.microseconds(childStart + Self.markNanoseconds / 2)),\"id\":\(flowID),\"name\":\"fork\",\"cat\":\"process\"}")
        default:
            break
        }
    }

    /// Closes what is still open at the end of the trace; adds each process's end instant.
    mutating func finish(at end: UInt64, into events: JSONEventWriter) throws {
        for t in tables.threads.indices {
            if let since = onCPUSince[t] {
                try slice(t, lane: Self.cpuLane, label: "CPU", name: "CPU \(cpuOf[t])", category: "on-cpu", from: since, to: max(since, end),
                      args: "\"open_at_end\":true", into: events)
            }
            if let open = openCall[t] {
                try slice(t, lane: Self.blockedLane, label: "blocked", name: open.call.label(smallArgument: open.small, argument: open.argument),
                      category: "blocked-" + open.call.category(smallArgument: open.small).rawValue, from: open.time, to: max(open.time, end),
                      args: "\"open_at_end\":true", into: events)
            }
        }
        // A counter of live processes (an exec'd image continues its pid: not counted twice).
        var changes: [(time: UInt64, delta: Int)] = []
        for p in tables.processes where p.image == 0 || !tables.processes.contains(where: { $0.pid == p.pid && $0.image < p.image }) {
            changes.append((p.startNanoseconds, 1))
        }
        for p in tables.processes where p.exitKind != .exec {
            changes.append((p.endNanoseconds ?? end, -1))
        }
        var live = 0
        for change in changes.sorted(by: { ($0.time, $0.delta) < ($1.time, $1.delta) }) {
            live = max(0, live + change.delta)
            guard filter.accepts(pid: counterPid), filter.accepts(time: change.time) else { continue }
            try events.object("{\"ph\":\"C\",\"pid\":\(counterPid),\"tid\":\(counterPid),\"ts\":\(JSONText.microseconds(change.time)),\"name\":\"live processes\",\"args\":{\"processes\":\(live)}}")
        }
        for p in tables.processes {
            guard let time = p.endNanoseconds, p.exitKind != .exec, filter.accepts(pid: p.pid), filter.accepts(time: time) else { continue }
            let how = ExitDescription.text(kind: p.exitKind, status: p.exitStatus)
            try events.object("{\"ph\":\"i\",\"s\":\"p\",\"pid\":\(p.pid),\"tid\":\(p.pid),\"ts\":\(JSONText.microseconds(time)),\"name\":\(JSONText.string("end: " + how)),\"args\":{\"instrumented\":\(p.instrumented)}}")
        }
    }
}
