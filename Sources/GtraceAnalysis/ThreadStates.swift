import GtraceFormat

/// Where a thread's time went, split into states that never overlap (see
/// docs/METRICS.md, "Thread states"). On-CPU and runnable come from perf; the
/// off-CPU reasons from the lock, GIL and blocking-call events.
public struct ThreadStateTimes: Sendable, Codable, Equatable {
    public var runningWithGILNanoseconds: UInt64 = 0
    /// On a CPU without the GIL (every running thread of a non-Python process).
    public var runningNanoseconds: UInt64 = 0
    /// Preempted: could run, waited for a CPU.
    public var runnableNanoseconds: UInt64 = 0
    /// Waiting for a mutex, rwlock, the GIL, a semaphore, a condition variable or a join.
    public var lockWaitNanoseconds: UInt64 = 0
    /// The part of `lockWaitNanoseconds` the thread spent on a CPU spinning for a
    /// spinlock (perf): waiting, not work. Nil when it never spun with perf on.
    public var spinningNanoseconds: UInt64?
    public var sleepingNanoseconds: UInt64 = 0
    public var childWaitNanoseconds: UInt64 = 0
    public var ioNanoseconds: UInt64 = 0
    public var otherOffCPUNanoseconds: UInt64 = 0
    /// Times the thread left a CPU (not preempted) into other off-CPU time: a wait no
    /// wrapper recorded, such as a static program's futex lock handed to another thread.
    public var otherOffCPUEntries = 0
    /// Sum of on-CPU intervals (perf), nil without perf.
    public var onCPUNanoseconds: UInt64?
    public var switchesIn = 0
    public var preemptions = 0

    public init() {}

    public var totalNanoseconds: UInt64 {
        runningWithGILNanoseconds + runningNanoseconds + runnableNanoseconds + lockWaitNanoseconds
            + sleepingNanoseconds + childWaitNanoseconds + ioNanoseconds + otherOffCPUNanoseconds
    }

    /// The states in report order with their labels.
    public var labelled: [(label: String, nanoseconds: UInt64)] {
        [("running with GIL", runningWithGILNanoseconds), ("running", runningNanoseconds),
         ("runnable", runnableNanoseconds), ("lock/GIL wait", lockWaitNanoseconds),
         ("sleeping", sleepingNanoseconds), ("child wait", childWaitNanoseconds),
         ("I/O", ioNanoseconds), ("other off-CPU", otherOffCPUNanoseconds)]
    }
}

/// One thread's state machine: flags set by events, time charged to the
/// state that held since the previous event.
struct ThreadStateMachine {
    enum State: Int { case runningWithGIL, running, runnable, lockWait, sleeping, childWait, io, otherOffCPU }

    let perf: Bool
    private(set) var times = ThreadStateTimes()
    private var since: UInt64?
    /// Where the time charged next starts (nil before the first event).
    var chargedUpTo: UInt64? { since }
    /// Without a first switch record a thread is on a CPU when it starts.
    private var onCPU = true
    private var preempted = false
    private var gilHeld = 0
    private var gilWaiting = 0
    private var lockWaiting = 0
    /// Waits for a spinlock: its waiter stays on a CPU, and that time is a wait.
    private var spinWaiting = 0
    private let spinLocks: LockSet
    private var conditionWaiting = 0
    private var block: BlockingCall.Category?
    private var blockBegan: UInt64 = 0
    private var blockCall = BlockingCall(rawValue: 0)
    private var onCPUSince: UInt64 = 0
    /// An on-CPU interval that just ended, for whoever spreads them over time.
    private var endedOnCPU: (start: UInt64, end: UInt64)?

    /// The on-CPU interval closed by the last event (cpu-out or the thread's end), once.
    mutating func takeEndedOnCPU() -> (start: UInt64, end: UInt64)? {
        defer { endedOnCPU = nil }
        return endedOnCPU
    }

    /// One machine per thread of the trace, knowing its spinlocks.
    static func machines(for tables: TraceTables) -> [ThreadStateMachine] {
        let spinLocks = LockSet(tables.locks.filter { $0.kind == .spinlock }.map(\.index))
        return tables.threads.map { _ in ThreadStateMachine(perf: tables.info["scheduling"] == "perf", spinLocks: spinLocks) }
    }

    init(perf: Bool, spinLocks: LockSet) {
        self.perf = perf
        self.spinLocks = spinLocks
        if perf { times.onCPUNanoseconds = 0 }
    }

    /// `state`, read in place: through an array's subscript its getter copied the whole
    /// machine out and destroyed the copy, per event (4% of a report's CPU time); a
    /// mutating call goes through the array's in-place access.
    mutating func stateInPlace() -> State { state }

    var state: State {
        if perf {
            if isSpinning { return .lockWait }
            if onCPU { return gilHeld > 0 ? .runningWithGIL : .running }
            if preempted { return .runnable }
        }
        if gilWaiting > 0 || lockWaiting > 0 || conditionWaiting > 0 || block == .sync { return .lockWait }
        switch block {
        case .sleep: return .sleeping
        case .child: return .childWait
        case .io: return .io
        default: break
        }
        if perf { return .otherOffCPU }
        return gilHeld > 0 ? .runningWithGIL : .running
    }

    var isOnCPU: Bool { perf && onCPU }
    /// On a CPU (perf) while waiting for a spinlock: waiting, not work.
    private var isSpinning: Bool { perf && onCPU && spinWaiting > 0 }
    var isRunnable: Bool { perf && !onCPU && preempted }

    /// Charges the time since the previous event to the state that held.
    mutating func advance(to time: UInt64) {
        guard let start = since else {
            since = time
            onCPUSince = time
            return
        }
        guard time > start else { return }
        let span = time - start
        switch state {
        case .runningWithGIL: times.runningWithGILNanoseconds += span
        case .running: times.runningNanoseconds += span
        case .runnable: times.runnableNanoseconds += span
        case .lockWait:
            times.lockWaitNanoseconds += span
            if isSpinning { times.spinningNanoseconds = (times.spinningNanoseconds ?? 0).adding(saturating: span) }
        case .sleeping: times.sleepingNanoseconds += span
        case .childWait: times.childWaitNanoseconds += span
        case .io: times.ioNanoseconds += span
        case .otherOffCPU: times.otherOffCPUNanoseconds += span
        }
        since = time
    }

    /// A completed blocking call, reported by `apply` (call, start, end).
    typealias CompletedCall = (call: BlockingCall, small: UInt32, result: Int32, detail: UInt64, begin: UInt64)

    /// Applies an event at its time; returns a blocking call that just ended.
    mutating func apply(_ kind: EventKind, at time: UInt64, isGIL: (Int) -> Bool) -> CompletedCall? {
        advance(to: time)
        switch kind {
        case .cpuIn:
            if !onCPU { onCPUSince = time }
            if !onCPU || times.switchesIn == 0 { times.switchesIn += 1 }
            onCPU = true
            preempted = false
        case let .cpuOut(_, wasPreempted):
            // (A hostile file can put a switch-out before its switch-in: no time then.)
            if onCPU, time > onCPUSince {
                times.onCPUNanoseconds = times.onCPUNanoseconds.map { $0.adding(saturating: time - onCPUSince) }
                endedOnCPU = (onCPUSince, time)
            }
            let left = onCPU
            onCPU = false
            preempted = wasPreempted
            if wasPreempted { times.preemptions += 1 } else if left, state == .otherOffCPU { times.otherOffCPUEntries += 1 }
        case let .lockWait(lock, _):
            if isGIL(lock) { gilWaiting = 1 } else { lockWaiting += 1 }
            if spinLocks.contains(lock) { spinWaiting += 1 }
        case let .lockAcquired(lock, _), let .lockAcquire(lock, _):
            if isGIL(lock) {
                gilWaiting = 0
                gilHeld = 1
            } else if case .lockAcquired = kind {
                lockWaiting = max(lockWaiting - 1, 0)
                if spinLocks.contains(lock) { spinWaiting = max(spinWaiting - 1, 0) }
            }
        case let .lockFailed(lock, _, _):
            if isGIL(lock) { gilWaiting = 0 } else { lockWaiting = max(lockWaiting - 1, 0) }
            if spinLocks.contains(lock) { spinWaiting = max(spinWaiting - 1, 0) }
        case let .lockRelease(lock, _):
            if isGIL(lock) { gilHeld = 0 }
        case .futexWoke:
            lockWaiting = max(lockWaiting - 1, 0)
        case .conditionWait:
            conditionWaiting = 1
        case .conditionWoke:
            conditionWaiting = 0
        case let .blockBegin(call, small, _):
            block = call.category(smallArgument: small)
            blockBegan = time
            blockCall = call
            smallArgument = small
        case let .blockEnd(call, result, detail):
            defer { block = nil }
            if block != nil && call == blockCall {
                return (call, smallArgument, result, detail, blockBegan)
            }
        default:
            break
        }
        return nil
    }

    private var smallArgument: UInt32 = 0

    /// Closes the books at the thread's end.
    mutating func finish(at time: UInt64) {
        advance(to: time)
        if perf && onCPU, time > onCPUSince {
            times.onCPUNanoseconds = times.onCPUNanoseconds.map { $0.adding(saturating: time - onCPUSince) }
            endedOnCPU = (onCPUSince, time)
        }
        onCPU = false
    }
}
