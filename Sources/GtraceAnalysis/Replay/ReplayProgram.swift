import GtraceFormat

/// What each thread did, reduced to what a replay needs (docs/METRICS.md,
/// "Replay"): CPU work, fixed delays, lock operations and the points where it
/// waited for another thread or process.
public struct ReplayProgram: Sendable {
    public enum Op: Sendable, Equatable {
        /// CPU work, in nanoseconds of on-CPU time.
        case compute(UInt64)
        /// Time off the CPU that no other thread decides: sleeps, I/O, page faults.
        case delay(UInt64)
        case acquire(lock: Int)
        case release(lock: Int)
        /// Wait until thread `thread` has completed `ops` operations (or ended):
        /// a join, a semaphore or condition wait, woken by that thread.
        case waitFor(thread: Int, ops: Int)
        /// Wait until every thread of the processes with this pid has ended.
        case waitChild(pid: Int32)
    }

    public struct Thread: Sendable {
        public var index: Int
        public var process: Int
        public var tid: Int32
        /// The thread may start once `thread` completed `ops` operations; nil: at `startNanoseconds`.
        public var startAfter: (thread: Int, ops: Int)?
        public var startNanoseconds: UInt64
        public var ops: [Op] = []
    }

    public var threads: [Thread]
    /// Lock ids that are GILs.
    public var gilLocks: Set<Int>
    /// The recorded wall time (first start to last end), for comparison.
    public var recordedWallNanoseconds: UInt64
    public var startNanoseconds: UInt64
    /// Process pid of each thread's process, for `waitChild`.
    public var pidOfProcess: [Int32]
    /// True when compute times come from perf's on-CPU intervals.
    public var measuredOnCPU: Bool
    /// Operations the trace has; when over the builder's limit, `threads` hold none.
    public var operationCount = 0
    public var overLimit = false
}

/// Builds a `ReplayProgram` from the event stream, one event at a time in
/// time order. Between two operations of a thread, its time is split by the
/// same state machine as the thread states: running → compute, other
/// off-CPU, sleeping and I/O → delay; runnable and lock/GIL waits are left
/// out (the replay recreates them).
struct ReplayBuilder {
    private let tables: TraceTables
    private var machines: [ThreadStateMachine]
    private var threads: [ReplayProgram.Thread]
    private var lastTimes: [ThreadStateTimes]
    private var lastEventTime: [UInt64]
    private var begun: [Bool]
    private var forkPoint: [Int32: (thread: Int, ops: Int)] = [:]
    private var blockCategory: [BlockingCall.Category?]
    private let gilLocks: Set<Int>
    private let perf: Bool
    /// Beyond this many operations the program is dropped, so that memory stays
    /// bounded by threads and locks (docs/METRICS.md, "Replay").
    private let operationLimit: Int
    private var operationCount = 0

    init(tables: TraceTables, operationLimit: Int) {
        self.operationLimit = operationLimit
        self.tables = tables
        perf = tables.info["scheduling"] == "perf"
        machines = tables.threads.map { _ in ThreadStateMachine(perf: tables.info["scheduling"] == "perf") }
        threads = tables.threads.map {
            ReplayProgram.Thread(index: $0.index, process: $0.process, tid: $0.tid, startAfter: nil, startNanoseconds: $0.startNanoseconds)
        }
        lastTimes = Array(repeating: ThreadStateTimes(), count: tables.threads.count)
        lastEventTime = Array(repeating: 0, count: tables.threads.count)
        begun = Array(repeating: false, count: tables.threads.count)
        blockCategory = Array(repeating: nil, count: tables.threads.count)
        gilLocks = Set(tables.gils.compactMap(\.lock))
    }

    /// Work and delays since the thread's previous operation.
    private mutating func flush(_ t: Int) {
        let now = machines[t].times
        let before = lastTimes[t]
        let compute = (now.runningNanoseconds - before.runningNanoseconds)
            + (now.runningWithGILNanoseconds - before.runningWithGILNanoseconds)
        var delay = now.otherOffCPUNanoseconds - before.otherOffCPUNanoseconds
        if blockCategory[t] == nil {
            // Sleeping and I/O come from blocking calls; outside one they would be a plain delay.
            delay += (now.sleepingNanoseconds - before.sleepingNanoseconds) + (now.ioNanoseconds - before.ioNanoseconds)
        }
        if compute > 0 { append(t, .compute(compute)) }
        if delay > 0 { append(t, .delay(delay)) }
        lastTimes[t] = now
    }

    private mutating func append(_ t: Int, _ op: ReplayProgram.Op) {
        guard operationCount <= operationLimit else { return }
        // Merge neighbours of the same kind: fewer operations, same replay.
        if let last = threads[t].ops.last {
            switch (last, op) {
            case let (.compute(a), .compute(b)): threads[t].ops[threads[t].ops.count - 1] = .compute(a + b); return
            case let (.delay(a), .delay(b)): threads[t].ops[threads[t].ops.count - 1] = .delay(a + b); return
            default: break
            }
        }
        threads[t].ops.append(op)
        operationCount += 1
        if operationCount > operationLimit {
            for i in threads.indices { threads[i].ops = [] }
        }
    }

    /// The thread, other than `t`, whose latest event is nearest before `time`:
    /// taken as the one that woke `t` (a join's thread end, a release, a post).
    private func waker(of t: Int, at time: UInt64) -> Int? {
        var best: Int?
        for other in threads.indices where other != t && begun[other] && lastEventTime[other] <= time {
            if best.map({ lastEventTime[other] > lastEventTime[$0] }) ?? true { best = other }
        }
        return best
    }

    mutating func consume(_ event: TraceEvent) {
        let t = event.thread
        guard operationCount <= operationLimit, threads.indices.contains(t) else { return }
        let gils = gilLocks
        if !begun[t] {
            begun[t] = true
            machines[t].advance(to: min(event.time, tables.threads[t].startNanoseconds))
        }
        // Dependencies that start a thread: its creator's progress, or its parent's fork.
        if case let .threadStart(creator) = event.kind, let creator, threads.indices.contains(creator) {
            threads[t].startAfter = (creator, threads[creator].ops.count)
        }
        if case .processStart = event.kind, threads[t].startAfter == nil {
            let pid = tables.processes[tables.threads[t].process].pid
            if let point = forkPoint[pid] { threads[t].startAfter = point }
        }
        switch event.kind {
        case .lockAcquire, .lockAcquired, .lockRelease, .blockBegin, .blockEnd, .conditionWait, .conditionWoke,
             .fork, .threadEnd, .processExit:
            machines[t].advance(to: event.time)
            flush(t)
        default:
            break
        }
        switch event.kind {
        case let .lockAcquire(lock, _), let .lockAcquired(lock, _):
            append(t, .acquire(lock: lock))
        case let .lockRelease(lock, _):
            append(t, .release(lock: lock))
        case let .fork(childPid):
            forkPoint[childPid] = (t, threads[t].ops.count)
        case let .blockBegin(call, small, _):
            blockCategory[t] = call.category(smallArgument: small)
        case let .blockEnd(call, result, _):
            let category = blockCategory[t]
            blockCategory[t] = nil
            let before = lastTimes[t]
            _ = machines[t].apply(event.kind, at: event.time, isGIL: { gils.contains($0) })
            let now = machines[t].times
            lastTimes[t] = now
            // Work done inside the call (on a CPU before it slept) stays work.
            let inside = (now.runningNanoseconds - before.runningNanoseconds) + (now.runningWithGILNanoseconds - before.runningWithGILNanoseconds)
            if inside > 0 { append(t, .compute(inside)) }
            switch category {
            case .child where call.isWaitForChild && result > 0 && tables.processes.contains(where: { $0.pid == result }):
                append(t, .waitChild(pid: result))
            case .sync:
                if let w = waker(of: t, at: event.time) { append(t, .waitFor(thread: w, ops: threads[w].ops.count)) }
            default:
                let blocked = (now.sleepingNanoseconds - before.sleepingNanoseconds) + (now.ioNanoseconds - before.ioNanoseconds)
                    + (now.childWaitNanoseconds - before.childWaitNanoseconds) + (now.otherOffCPUNanoseconds - before.otherOffCPUNanoseconds)
                if blocked > 0 { append(t, .delay(blocked)) }
            }
            lastEventTime[t] = event.time
            return
        case .conditionWoke:
            if let w = waker(of: t, at: event.time) { append(t, .waitFor(thread: w, ops: threads[w].ops.count)) }
        default:
            break
        }
        _ = machines[t].apply(event.kind, at: event.time, isGIL: { gils.contains($0) })
        // Lock and GIL waits, and runnable time, are recreated by the replay: not kept.
        lastTimes[t].lockWaitNanoseconds = machines[t].times.lockWaitNanoseconds
        lastTimes[t].runnableNanoseconds = machines[t].times.runnableNanoseconds
        lastEventTime[t] = event.time
    }

    /// Closes every thread at its end.
    mutating func finish(traceEnd: UInt64) -> ReplayProgram {
        for t in threads.indices {
            let info = tables.threads[t]
            let processEnd = tables.processes.indices.contains(info.process) ? tables.processes[info.process].endNanoseconds : nil
            let end = max(info.endNanoseconds ?? processEnd ?? traceEnd, lastEventTime[t])
            if !begun[t] { machines[t].advance(to: info.startNanoseconds) }
            machines[t].finish(at: end)
            flush(t)
        }
        let start = tables.processes.map(\.startNanoseconds).min() ?? 0
        return ReplayProgram(threads: threads, gilLocks: gilLocks, recordedWallNanoseconds: traceEnd > start ? traceEnd - start : 0,
                             startNanoseconds: start, pidOfProcess: tables.processes.map(\.pid), measuredOnCPU: perf,
                             operationCount: operationCount, overLimit: operationCount > operationLimit)
    }
}
