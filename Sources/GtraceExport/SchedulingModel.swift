import GtraceAnalysis
import GtraceFormat

/// The scheduling part of the track model: per thread a "CPU" track (on-CPU
/// and runnable slices, from perf) and a "blocked" track (one slice per
/// blocking call, named by the call), fork→child flow arrows, a counter of
/// runnable threads and one of live processes. Each track holds one kind of
/// slice, so nothing on it overlaps.
///
/// It also gives the sink the thread states: every switch out (runnable,
/// sleeping or in I/O) and in, and a waking for each recorded hand-off that
/// ended a sleep, if the waker's act fell inside the woken thread's last
/// sleep: the release of a lock or the GIL → its next contended acquisition;
/// a `sem_post` → the `sem_wait` on that semaphore that blocked and got it; a
/// write to a pipe or socket → the blocked read of it (the runtime's WAKER
/// records name both ends' object).
struct SchedulingModel {
    static let cpuLane: Int64 = 508
    static let blockedLane: Int64 = 509
    /// Short "fork" / "started by fork" slices that the fork arrows attach to
    /// (a flow event needs an enclosing slice, or the UI drops it).
    static let processLane: Int64 = 510
    static let markNanoseconds: UInt64 = 1000
    /// Clock skew allowed between a release (runtime clock) and the acquirer's sleep (perf clock).
    static let wakeSlackNanoseconds: UInt64 = 200_000

    private let tables: TraceTables
    private var onCPUSince: [UInt64?]
    private var cpuOf: [Int]
    private var runnableSince: [UInt64?]
    private var openCall: [(call: BlockingCall, small: UInt32, argument: UInt64, time: UInt64)?]
    /// Per thread: its last sleep (switched out without preemption) and whether a waker was found for it.
    private var sleepSince: [UInt64?]
    private var lastSleep: [(start: UInt64, end: UInt64, woken: Bool)?]
    /// A thread's act that may wake another: who, when, on which CPU.
    private typealias WakerAct = (thread: Int, time: UInt64, cpu: Int)
    private typealias Waking = (thread: Int, waker: Int, cpu: Int, time: UInt64)
    /// Per lock: who released it last, when, and on which CPU.
    private var lastRelease: [Int: WakerAct] = [:]
    private var pendingWakings: [Waking] = []
    /// The latest sem_post per semaphore (process, address) and write per I/O object, and the
    /// object each thread's current blocking I/O call waits on.
    private var lastPost: [SemaphoreKey: WakerAct] = [:]
    private var lastWrite: [UInt64: WakerAct] = [:]
    private var ioWaitObject: [Int: UInt64] = [:]

    private struct SemaphoreKey: Hashable {
        var process: Int
        var address: UInt64
    }
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
        sleepSince = Array(repeating: nil, count: tables.threads.count)
        lastSleep = Array(repeating: nil, count: tables.threads.count)
        counterPid = tables.processes.first?.pid ?? 0
    }

    private func ids(_ thread: Int) -> (pid: Int32, tid: Int32) {
        let t = tables.threads[thread]
        return (tables.processes[t.process].pid, t.tid)
    }

    private func ref(_ thread: Int, lane: Int64) -> TrackRef {
        let (pid, tid) = ids(thread)
        let kind: TrackRef.Kind = lane == Self.cpuLane ? .cpu : lane == Self.blockedLane ? .blocked : .process
        return TrackRef(pid: pid, id: Int64(tid) | lane << 22, thread: thread, kind: kind)
    }

    private mutating func track(_ thread: Int, lane: Int64, label: String, into sink: TrackSink) throws -> TrackRef {
        let (pid, tid) = ids(thread)
        let track = ref(thread, lane: lane)
        if named.insert(Int64(pid) << 32 | track.id).inserted {
            let name = tables.threads[thread].name.isEmpty ? "thread \(tid)" : tables.threads[thread].name
            let order = (tid == pid ? 0 : thread + 1) * 64 + (lane == Self.cpuLane ? 1 : lane == Self.blockedLane ? 2 : 3)
            try sink.track(track, name: "\(name) \(label)", sortIndex: order)
        }
        return track
    }

    private mutating func slice(_ thread: Int, lane: Int64, label: String, name: String, category: StaticString,
                                from start: UInt64, to end: UInt64, args: [TrackArg], into sink: TrackSink) throws {
        guard end >= start, filter.accepts(pid: ids(thread).pid), let (start, end) = filter.clip(start, end) else { return }
        let track = try track(thread, lane: lane, label: label, into: sink)
        sliceCount += 1
        try sink.slice(track, start: start, end: end, name: name, category: category, args: args)
    }

    private mutating func counter(at time: UInt64, into sink: TrackSink) throws {
        guard filter.accepts(pid: counterPid), filter.accepts(time: time) else { return }
        try sink.counter(pid: counterPid, name: "runnable threads", key: "runnable", time: time, value: runnable, onSlice: false)
    }

    private func exported(_ thread: Int, at time: UInt64) -> Bool {
        filter.accepts(pid: ids(thread).pid) && filter.accepts(time: time)
    }

    private static func blockedCategory(_ category: BlockingCall.Category) -> StaticString {
        switch category {
        case .sleep: return "blocked-sleep"
        case .child: return "blocked-child"
        case .sync: return "blocked-sync"
        case .io: return "blocked-io"
        }
    }

    /// Sink calls for one event (often none).
    mutating func consume(_ e: TraceEvent, into sink: TrackSink) throws {
        let t = e.thread
        guard tables.threads.indices.contains(t) else { return }
        switch e.kind {
        case let .cpuIn(cpu):
            if let since = runnableSince[t] {
                try slice(t, lane: Self.cpuLane, label: "CPU", name: "runnable", category: "runnable", from: since, to: e.time,
                          args: [TrackArg("duration_ns", e.time - min(since, e.time))], into: sink)
                runnableSince[t] = nil
                runnable -= 1
                try counter(at: e.time, into: sink)
            }
            if let since = sleepSince[t] {
                lastSleep[t] = (since, max(since, e.time), false)
                sleepSince[t] = nil
            }
            onCPUSince[t] = e.time
            cpuOf[t] = cpu
            if exported(t, at: e.time) { try sink.switchIn(thread: t, cpu: cpu, time: e.time) }
        case let .cpuOut(cpu, preempted):
            let since = onCPUSince[t] ?? tables.threads[t].startNanoseconds
            try slice(t, lane: Self.cpuLane, label: "CPU", name: "CPU \(cpu)", category: "on-cpu", from: min(since, e.time), to: e.time,
                      args: [TrackArg("cpu", cpu), TrackArg("duration_ns", e.time - min(since, e.time))], into: sink)
            onCPUSince[t] = nil
            if preempted {
                runnableSince[t] = e.time
                runnable += 1
                try counter(at: e.time, into: sink)
            } else {
                sleepSince[t] = e.time
            }
            let state: OffCPUState = preempted ? .runnable
                : (openCall[t].map { $0.call.category(smallArgument: $0.small) == .io } ?? false) ? .io : .sleeping
            if exported(t, at: e.time) { try sink.switchOut(thread: t, cpu: cpu, time: e.time, state: state) }
        case let .blockBegin(call, small, argument):
            openCall[t] = (call, small, argument, e.time)
        case let .blockEnd(call, result, detail):
            if let open = openCall[t], open.call == call {
                var args = [TrackArg("call", call.name), TrackArg("result", result), TrackArg("duration_ns", e.time - min(open.time, e.time))]
                if call.isWaitForChild { args.append(TrackArg("wait_status", detail)) }
                try slice(t, lane: Self.blockedLane, label: "blocked", name: call.label(smallArgument: open.small, argument: open.argument),
                          category: Self.blockedCategory(call.category(smallArgument: open.small)), from: open.time, to: e.time,
                          args: args, into: sink)
                switch call.category(smallArgument: open.small) {
                case .sync where !call.isJoin && result == 0:
                    let key = SemaphoreKey(process: tables.threads[t].process, address: open.argument)
                    if let post = lastPost[key] { try woke(t, by: post, into: sink) }
                case .io:
                    if let object = ioWaitObject[t], let write = lastWrite[object] { try woke(t, by: write, into: sink) }
                default:
                    break
                }
            }
            openCall[t] = nil
            ioWaitObject[t] = nil
        case let .waker(kind, object, _):
            switch kind {
            case .semPost: lastPost[SemaphoreKey(process: tables.threads[t].process, address: object)] = (t, e.time, cpuOf[t])
            case .ioWrite: lastWrite[object] = (t, e.time, cpuOf[t])
            case .ioWait: ioWaitObject[t] = object
            default: break
            }
        case let .fork(childPid):
            // An arrow from a "fork" mark on the parent to a "started by fork" mark on the child's first thread.
            guard let child = tables.processes.first(where: { $0.pid == childPid && $0.startNanoseconds >= e.time &- 1_000_000 }),
                  let childThread = tables.threads.firstIndex(where: { $0.process == child.index && $0.tid == child.pid }) else { break }
            let childStart = max(child.startNanoseconds, e.time)
            try slice(t, lane: Self.processLane, label: "process", name: "fork \(childPid)", category: "process",
                      from: e.time, to: e.time + Self.markNanoseconds, args: [TrackArg("child_pid", childPid)], into: sink)
            try slice(childThread, lane: Self.processLane, label: "process", name: "started by fork", category: "process",
                      from: childStart, to: childStart + Self.markNanoseconds, args: [TrackArg("parent_pid", ids(t).pid)], into: sink)
            guard filter.accepts(pid: ids(t).pid), filter.accepts(pid: child.pid), filter.accepts(time: e.time),
                  filter.accepts(time: childStart + Self.markNanoseconds) else { break }
            flowID += 1
            try sink.flow(id: flowID, name: "fork", category: "process", from: ref(t, lane: Self.processLane), at: e.time + Self.markNanoseconds / 2,
                          to: ref(childThread, lane: Self.processLane), at: childStart + Self.markNanoseconds / 2)
        default:
            break
        }
    }

    /// A hold ended: remembered as the release that may wake the next holder.
    mutating func released(_ interval: LockInterval) {
        guard !interval.closedByEnd else { return }
        lastRelease[interval.lock] = (interval.thread, interval.end, cpuOf[interval.thread])
    }

    /// `thread` acquired `lock`: if another thread's release of it fell inside
    /// this thread's last sleep, that thread woke it.
    mutating func acquired(thread: Int, lock: Int, contended: Bool, previousOwner: Int?) {
        guard contended, let release = lastRelease[lock], previousOwner == nil || previousOwner == release.thread,
              let waking = waking(of: thread, by: release) else { return }
        pendingWakings.append(waking)
    }

    /// `thread`'s blocking call ended after `waker`'s act: a waking if the act fell inside its last sleep.
    private mutating func woke(_ thread: Int, by waker: WakerAct, into sink: TrackSink) throws {
        guard let w = waking(of: thread, by: waker) else { return }
        try sink.waking(thread: w.thread, waker: w.waker, cpu: w.cpu, time: w.time)
    }

    /// The waking of `thread` by another thread's act that fell inside its last
    /// sleep (± the clock slack), which it marks as woken; nil when it did not,
    /// the sleep was already woken, or either thread is filtered out.
    private mutating func waking(of thread: Int, by waker: WakerAct) -> Waking? {
        guard waker.thread != thread, let sleep = lastSleep[thread], !sleep.woken,
              waker.time &+ Self.wakeSlackNanoseconds >= sleep.start, waker.time <= sleep.end &+ Self.wakeSlackNanoseconds
        else { return nil }
        lastSleep[thread]?.woken = true
        let time = min(max(waker.time, sleep.start), sleep.end)
        guard exported(thread, at: time), filter.accepts(pid: ids(waker.thread).pid) else { return nil }
        return (thread, waker.thread, waker.cpu, time)
    }

    mutating func drainWakings(into sink: TrackSink) throws {
        guard !pendingWakings.isEmpty else { return }
        for w in pendingWakings { try sink.waking(thread: w.thread, waker: w.waker, cpu: w.cpu, time: w.time) }
        pendingWakings.removeAll(keepingCapacity: true)
    }

    /// Closes what is still open at the end of the trace; adds each process's end instant.
    mutating func finish(at end: UInt64, into sink: TrackSink) throws {
        for t in tables.threads.indices {
            if let since = onCPUSince[t] {
                try slice(t, lane: Self.cpuLane, label: "CPU", name: "CPU \(cpuOf[t])", category: "on-cpu", from: since, to: max(since, end),
                          args: [TrackArg("open_at_end", true)], into: sink)
            }
            if let open = openCall[t] {
                try slice(t, lane: Self.blockedLane, label: "blocked", name: open.call.label(smallArgument: open.small, argument: open.argument),
                          category: Self.blockedCategory(open.call.category(smallArgument: open.small)), from: open.time, to: max(open.time, end),
                          args: [TrackArg("open_at_end", true)], into: sink)
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
            try sink.counter(pid: counterPid, name: "live processes", key: "processes", time: change.time, value: live, onSlice: false)
        }
        for p in tables.processes {
            guard let time = p.endNanoseconds, p.exitKind != .exec, filter.accepts(pid: p.pid), filter.accepts(time: time) else { continue }
            let how = ExitDescription.text(kind: p.exitKind, status: p.exitStatus)
            let thread = tables.threads.firstIndex(where: { $0.process == p.index }) ?? -1
            try sink.instant(TrackRef(pid: p.pid, id: Int64(p.pid), thread: thread, kind: .thread), time: time, name: "end: " + how,
                             processScope: true, args: [TrackArg("instrumented", p.instrumented)])
        }
    }
}
