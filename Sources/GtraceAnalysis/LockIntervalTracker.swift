import GtraceFormat

/// A closed interval of one thread on one lock: a hold, a wait for the lock,
/// or a wait on a condition variable.
public struct LockInterval: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The lock was held; `contended` when the acquire had to wait first.
        case hold(contended: Bool)
        /// The thread waited for the lock; `acquired` false when the wait failed.
        case wait(acquired: Bool)
        /// The thread waited on condition variable `lock` (its mutex released).
        case conditionWait
    }

    public var kind: Kind
    public var thread: Int
    public var lock: Int
    public var flags: LockFlags
    public var start: UInt64
    public var end: UInt64
    /// True when the interval was still open when its thread, process or trace ended.
    public var closedByEnd: Bool
    /// For a hold: how many other threads were waiting for the lock when it ended.
    public var waitersAtEnd: Int = 0
    /// For a wait that got the lock: no thread of its process released it
    /// during the wait, so it waited for another process (a lock in shared
    /// memory: a multiprocessing lock, a process-shared mutex).
    public var releasedOutside = false
    /// For a wait that got the lock: the thread that last released it before
    /// the wait ended (-1: none), and when.
    public var lastReleaser = -1
    public var lastReleaseTime: UInt64 = 0
    /// For a hold: how long its thread waited for other locks (its GIL among them) meanwhile.
    public var waitedWithin: UInt64 = 0

    public var duration: UInt64 { end &- start }
}

/// Receives a `LockIntervalTracker`'s transitions.
protocol LockTransitionSink {
    mutating func apply(_ transition: LockIntervalTracker.Transition)
}

private struct ClosureSink: LockTransitionSink {
    let emit: (LockIntervalTracker.Transition) -> Void
    func apply(_ transition: LockIntervalTracker.Transition) { emit(transition) }
}

/// Turns the event stream into lock intervals: the one place that interprets
/// acquire/wait/release events. Feed it events in time order with `consume`,
/// then `finish` closes what is still open.
public struct LockIntervalTracker {
    public enum Transition {
        /// A hold began (an acquisition). `owner` is the previous acquirer of the lock, if any.
        /// `shared`: a rwlock's read lock, which other readers hold at the same time.
        case holdBegan(thread: Int, lock: Int, time: UInt64, contended: Bool, viaCondition: Bool, shared: Bool, previousOwner: Int?)
        /// The thread acquired a lock it already held (a recursive mutex, a read
        /// lock taken twice), or a counting semaphore: an acquisition, not a new hold.
        case reacquired(thread: Int, lock: Int, time: UInt64, contended: Bool)
        case waitBegan(thread: Int, lock: Int, time: UInt64)
        case trylockBusy(thread: Int, lock: Int, time: UInt64)
        case conditionWaitBegan(thread: Int, condition: Int, time: UInt64)
        case closed(LockInterval)
    }

    private struct Hold {
        var start: UInt64
        var depth: Int
        var flags: LockFlags
        var contended: Bool
        /// The thread's `waited` when the hold began.
        var waitedBefore: UInt64 = 0
    }

    private struct Wait {
        var lock: Int
        var start: UInt64
        var flags: LockFlags
        /// Another thread held the lock when the wait began.
        var heldByOther = false
    }

    /// The locks one thread holds: a few at a time almost always, so a short
    /// array searched in place (hashing a dictionary per lock event was 6% of
    /// a report's time); past `smallLimit` a dictionary, as a program may hold
    /// thousands.
    private struct HeldLocks {
        static let smallLimit = 16
        private var small: [(lock: Int, hold: Hold)] = []
        private var large: [Int: Hold]?

        subscript(lock: Int) -> Hold? {
            get {
                if let large { return large[lock] }
                for entry in small where entry.lock == lock { return entry.hold }
                return nil
            }
            set {
                if large != nil {
                    large![lock] = newValue
                    return
                }
                if let i = small.firstIndex(where: { $0.lock == lock }) {
                    if let newValue { small[i].hold = newValue } else { small.remove(at: i) }
                } else if let newValue {
                    if small.count < Self.smallLimit {
                        small.append((lock, newValue))
                    } else {
                        large = Dictionary(uniqueKeysWithValues: small.map { ($0.lock, $0.hold) })
                        large![lock] = newValue
                        small = []
                    }
                }
            }
        }

        /// Every (lock, hold), by lock.
        var sortedByLock: [(lock: Int, hold: Hold)] {
            (large.map { $0.map { (lock: $0.key, hold: $0.value) } } ?? small).sorted { $0.lock < $1.lock }
        }
    }

    private let threadProcess: [Int]
    /// Threads that may have an interval open since their process last closed
    /// them: a process exit closes only those, not every thread of the process.
    private var mayBeOpen: [Bool]
    private var openCandidates: [Int: [Int]] = [:]  // process → threads
    private var holds: [HeldLocks]
    private var waits: [Wait?]
    private var conditionWaits: [Wait?]
    private var lastOwner: [Int?]
    private var lockKinds: [LockKind]
    private var holders: [Int]
    /// Python locks (POSIX semaphores up to CPython 3.13) have no owner: any
    /// thread may release them (a Condition's waiter lock, an Event). Their
    /// holding threads, in order of acquisition: a release by a thread that
    /// does not hold one ends the earliest hold.
    private var semaphoreHolders: [[Int]]
    /// Python locks acquired again by a thread that held them with no release
    /// in between: counting semaphores, or released in another process (a
    /// multiprocessing.Queue's slots, taken by the producer and given back by
    /// the consumer), or signals (a Condition's waiter lock: its thread takes
    /// it, then waits to take it again until notify() releases it). Their
    /// acquisitions and waits count; their holds cannot be known and are not made up.
    private var countingSemaphores: [Bool]
    /// Per lock: when a thread of its process last released it.
    private var lastRelease: [UInt64]
    private var lastReleaser: [Int]
    /// Per lock: its first hold's start (UInt64.max: none) and its last hold's end.
    /// Kept here, not by the analyzer's accumulators: those are updated from a closure,
    /// where two more stores per hold cost 8% of a lock-heavy report.
    private var firstHoldStart: [UInt64]
    private var lastHoldEnd: [UInt64]
    /// Per thread: its lock waits so far, summed (for holds' `waitedWithin`).
    private var waited: [UInt64]
    /// A thread that polls a lock: its first failed trylock of the chain and its last
    /// (`filelock`'s flock(LOCK_NB) and time.sleep, `while (trylock) sched_yield();`).
    private var polls: [(lock: Int, first: UInt64, last: UInt64)?]
    /// An acquisition this soon after the chain's last failed try ends a polling wait;
    /// failures further apart start a new chain (a trylock that found the lock busy and
    /// moved on is no wait).
    public static let pollGapNanoseconds: UInt64 = 1_000_000_000
    private var waiters: [Int]
    private var endedThreads: Set<Int> = []
    /// When the recording lost events: where they began to be lost, and each
    /// thread's last record. Nothing is known of a thread past both, so what it
    /// left open (a hold whose release was lost) is closed there, not at its
    /// process's exit or the end of the trace.
    private let lossFrom: UInt64?
    private var lastRecord: [UInt64]

    public init(tables: TraceTables) {
        lossFrom = EventLoss(info: tables.info)?.fromNanoseconds
        lastRecord = Array(repeating: 0, count: lossFrom == nil ? 0 : tables.threads.count)
        threadProcess = tables.threads.map(\.process)
        mayBeOpen = Array(repeating: false, count: tables.threads.count)
        holds = Array(repeating: HeldLocks(), count: tables.threads.count)
        waits = Array(repeating: nil, count: tables.threads.count)
        conditionWaits = Array(repeating: nil, count: tables.threads.count)
        lastOwner = Array(repeating: nil, count: tables.locks.count)
        lockKinds = tables.locks.map(\.kind)
        holders = Array(repeating: 0, count: tables.locks.count)
        waiters = Array(repeating: 0, count: tables.locks.count)
        semaphoreHolders = Array(repeating: [], count: tables.locks.count)
        countingSemaphores = Array(repeating: false, count: tables.locks.count)
        lastRelease = Array(repeating: 0, count: tables.locks.count)
        lastReleaser = Array(repeating: -1, count: tables.locks.count)
        firstHoldStart = Array(repeating: .max, count: tables.locks.count)
        waited = Array(repeating: 0, count: tables.threads.count)
        lastHoldEnd = Array(repeating: 0, count: tables.locks.count)
        polls = Array(repeating: nil, count: tables.threads.count)
    }

    /// Feeds one event; its transitions go to `emit`.
    public mutating func consume(_ e: TraceEvent, _ emit: (Transition) -> Void) {
        withoutActuallyEscaping(emit) { emit in
            var sink = ClosureSink(emit: emit)
            consume(e, &sink)
        }
    }

    /// Closes every interval still open at `time` (the end of the trace).
    public mutating func finish(at time: UInt64, _ emit: (Transition) -> Void) {
        withoutActuallyEscaping(emit) { emit in
            var sink = ClosureSink(emit: emit)
            finish(at: time, &sink)
        }
    }

    /// Feeds one event; its transitions go to `sink`, updated in place (the analyzer's
    /// `LockTransitionAccumulator`).
    mutating func consume<Sink: LockTransitionSink>(_ e: TraceEvent, _ sink: inout Sink) {
        let t = e.thread
        guard holds.indices.contains(t) else { return }
        if lastRecord.indices.contains(t) { lastRecord[t] = e.time }
        switch e.kind {
        case let .lockAcquire(lock, flags):
            let polled = endPoll(thread: t, lock: lock, flags: flags, at: e.time, &sink)
            begin(thread: t, lock: lock, flags: flags, time: e.time, contended: polled, &sink)
        case let .lockWait(lock, flags):
            if polls[t]?.lock == lock { polls[t] = nil }  // a blocking wait follows the tries
            closeWait(thread: t, at: e.time, acquired: false, byEnd: true, &sink)
            // Waiting for a Python lock its thread holds: a signal, not a mutex.
            if isSemaphore(lock), holds[t][lock] != nil { stopHolds(lock: lock, at: e.time, &sink) }
            let heldByOther = holders.indices.contains(lock) && holders[lock] > (holds[t][lock] == nil ? 0 : 1)
            waits[t] = Wait(lock: lock, start: e.time, flags: flags, heldByOther: heldByOther)
            touch(t)
            if waiters.indices.contains(lock) { waiters[lock] += 1 }
            sink.apply(.waitBegan(thread: t, lock: lock, time: e.time))
        case let .lockAcquired(lock, flags):
            // A mutex wait began with a failed trylock: always contended. A GIL
            // request is contended only if another thread held the GIL then.
            var contended = true
            if let open = waits[t] {
                if lockKinds.indices.contains(lock), lockKinds[lock] == .gil { contended = open.heldByOther }
                closeWait(thread: t, at: e.time, acquired: open.lock == lock, byEnd: false, &sink)
            }
            begin(thread: t, lock: lock, flags: flags, time: e.time, contended: contended, &sink)
        case let .lockFailed(lock, _, _):
            if let open = waits[t], open.lock == lock {
                closeWait(thread: t, at: e.time, acquired: false, byEnd: false, &sink)
            }
        case let .lockRelease(lock, _):
            if polls[t]?.lock == lock { polls[t] = nil }  // it held what it tried
            if lastRelease.indices.contains(lock) {
                lastRelease[lock] = e.time
                lastReleaser[lock] = t
            }
            var holder = t
            if holds[t][lock] == nil {
                // A Python lock released by another thread than its holder: a hand-over.
                guard isSemaphore(lock), let first = semaphoreHolders[lock].first else { return }
                holder = first
            }
            guard var hold = holds[holder][lock] else { return }
            hold.depth -= 1
            if hold.depth > 0 {
                holds[holder][lock] = hold
            } else {
                endHold(thread: holder, lock: lock, hold: hold, at: e.time, byEnd: false, &sink)
            }
        case let .futexWoke(lock, result):
            // A futex wait ends without a hold: its word's holds are never seen.
            if let open = waits[t], open.lock == lock {
                closeWait(thread: t, at: e.time, acquired: result == 0, byEnd: false, &sink)
            }
        case let .lockTryFailed(lock, _):
            // Not its own lock (Python's Condition tries the lock it holds to see that it does).
            if waits[t] == nil, holds[t][lock] == nil {
                if let p = polls[t], p.lock == lock, e.time &- p.last <= Self.pollGapNanoseconds {
                    polls[t]?.last = e.time
                } else {
                    polls[t] = (lock, e.time, e.time)
                }
            }
            sink.apply(.trylockBusy(thread: t, lock: lock, time: e.time))
        case let .conditionWait(condition, _):
            conditionWaits[t] = Wait(lock: condition, start: e.time, flags: [])
            touch(t)
            sink.apply(.conditionWaitBegan(thread: t, condition: condition, time: e.time))
        case let .conditionWoke(condition, _, _):
            if let open = conditionWaits[t], open.lock == condition {
                sink.apply(.closed(LockInterval(kind: .conditionWait, thread: t, lock: condition, flags: [], start: open.start,
                                                end: e.time, closedByEnd: false)))
                conditionWaits[t] = nil
            }
        case .threadEnd:
            polls[t] = nil
            closeAll(thread: t, at: e.time, &sink)
            endedThreads.insert(t)
        case .processExit, .exec:
            let process = threadProcess[t]
            guard let candidates = openCandidates.removeValue(forKey: process) else { break }
            for other in candidates.sorted() {
                mayBeOpen[other] = false
                if !endedThreads.contains(other) { closeAll(thread: other, at: e.time, &sink) }
            }
        default:
            break
        }
    }

    /// A lock's first hold's start and last hold's end (nil: never held).
    public func holdSpan(lock: Int) -> (first: UInt64, last: UInt64)? {
        guard firstHoldStart.indices.contains(lock), firstHoldStart[lock] != .max else { return nil }
        return (firstHoldStart[lock], lastHoldEnd[lock])
    }

    /// Closes every interval still open at `time`; the transitions go to `sink`.
    mutating func finish<Sink: LockTransitionSink>(at time: UInt64, _ sink: inout Sink) {
        for t in holds.indices { closeAll(thread: t, at: time, &sink) }
    }

    private mutating func begin<Sink: LockTransitionSink>(thread t: Int, lock: Int, flags: LockFlags, time: UInt64, contended: Bool,
                                                          _ sink: inout Sink) {
        if isSemaphore(lock), countingSemaphores[lock] || holds[t][lock] != nil {
            stopHolds(lock: lock, at: time, &sink)
            sink.apply(.reacquired(thread: t, lock: lock, time: time, contended: contended))
            return
        }
        if var hold = holds[t][lock] {
            hold.depth += 1  // recursive mutex, or a read lock taken twice
            holds[t][lock] = hold
            sink.apply(.reacquired(thread: t, lock: lock, time: time, contended: contended))
            return
        }
        holds[t][lock] = Hold(start: time, depth: 1, flags: flags, contended: contended, waitedBefore: waited[t])
        if firstHoldStart.indices.contains(lock), firstHoldStart[lock] == .max { firstHoldStart[lock] = time }
        touch(t)
        if holders.indices.contains(lock) { holders[lock] += 1 }
        if isSemaphore(lock) { semaphoreHolders[lock].append(t) }
        let previous = lastOwner.indices.contains(lock) ? lastOwner[lock] : nil
        if lastOwner.indices.contains(lock) { lastOwner[lock] = t }
        sink.apply(.holdBegan(thread: t, lock: lock, time: time, contended: contended,
                              viaCondition: flags.contains(.viaCondition), shared: flags.contains(.shared), previousOwner: previous))
    }

    /// A Python lock found to be a counting semaphore or a signal: its open holds
    /// end now, and it has none from here on.
    private mutating func stopHolds<Sink: LockTransitionSink>(lock: Int, at time: UInt64, _ sink: inout Sink) {
        guard !countingSemaphores[lock] else { return }
        countingSemaphores[lock] = true
        for holder in semaphoreHolders[lock] {
            if let hold = holds[holder][lock] { endHold(thread: holder, lock: lock, hold: hold, at: time, byEnd: false, &sink) }
        }
    }

    @inline(__always)
    private func isSemaphore(_ lock: Int) -> Bool {
        lockKinds.indices.contains(lock) && lockKinds[lock].isSemaphore
    }

    @inline(__always)
    private mutating func touch(_ t: Int) {
        if !mayBeOpen[t] {
            mayBeOpen[t] = true
            openCandidates[threadProcess[t], default: []].append(t)
        }
    }

    /// A thread that polled `lock` and now takes it waited for it from its first failed try:
    /// a closed wait (its waiters are not counted while it polled). True when it did.
    private mutating func endPoll<Sink: LockTransitionSink>(thread t: Int, lock: Int, flags: LockFlags, at time: UInt64, _ sink: inout Sink) -> Bool {
        guard let p = polls[t], p.lock == lock else { return false }
        polls[t] = nil
        guard time &- p.last <= Self.pollGapNanoseconds, time >= p.first else { return false }
        var interval = LockInterval(kind: .wait(acquired: true), thread: t, lock: lock, flags: flags, start: p.first, end: time, closedByEnd: false)
        interval.releasedOutside = lastRelease.indices.contains(lock) && lastRelease[lock] < p.first && lockKinds[lock] != .gil
        sink.apply(.closed(interval))
        return true
    }

    /// Ends the open wait of `thread`.
    private mutating func closeWait<Sink: LockTransitionSink>(thread: Int, at time: UInt64, acquired: Bool, byEnd: Bool, _ sink: inout Sink) {
        guard let wait = waits[thread] else { return }
        waits[thread] = nil
        if waiters.indices.contains(wait.lock) { waiters[wait.lock] -= 1 }
        var interval = LockInterval(kind: .wait(acquired: acquired), thread: thread, lock: wait.lock, flags: wait.flags,
                                    start: wait.start, end: max(time, wait.start), closedByEnd: byEnd)
        interval.releasedOutside = acquired && lastRelease.indices.contains(wait.lock) && lastRelease[wait.lock] < wait.start
            && lockKinds[wait.lock] != .gil
        if acquired, lastRelease.indices.contains(wait.lock) {
            interval.lastReleaser = lastReleaser[wait.lock]
            interval.lastReleaseTime = lastRelease[wait.lock]
        }
        if waited.indices.contains(thread) { waited[thread] = waited[thread] &+ interval.duration }
        sink.apply(.closed(interval))
    }

    /// Ends `thread`'s hold of `lock`.
    private mutating func endHold<Sink: LockTransitionSink>(thread t: Int, lock: Int, hold: Hold, at time: UInt64, byEnd: Bool, _ sink: inout Sink) {
        holds[t][lock] = nil
        if lastHoldEnd.indices.contains(lock) { lastHoldEnd[lock] = max(lastHoldEnd[lock], time, hold.start) }
        if holders.indices.contains(lock) { holders[lock] -= 1 }
        if isSemaphore(lock), let i = semaphoreHolders[lock].firstIndex(of: t) { semaphoreHolders[lock].remove(at: i) }
        var interval = LockInterval(kind: .hold(contended: hold.contended), thread: t, lock: lock, flags: hold.flags,
                                    start: hold.start, end: max(time, hold.start), closedByEnd: byEnd)
        interval.waitersAtEnd = waiters.indices.contains(lock) ? waiters[lock] : 0
        if waited.indices.contains(t) { interval.waitedWithin = waited[t] &- hold.waitedBefore }
        sink.apply(.closed(interval))
    }

    private mutating func closeAll<Sink: LockTransitionSink>(thread t: Int, at end: UInt64, _ sink: inout Sink) {
        let time = lossFrom.map { lastRecord.indices.contains(t) ? min(end, max($0, lastRecord[t])) : end } ?? end
        closeWait(thread: t, at: time, acquired: false, byEnd: true, &sink)
        if let open = conditionWaits[t] {
            sink.apply(.closed(LockInterval(kind: .conditionWait, thread: t, lock: open.lock, flags: [], start: open.start,
                                            end: max(time, open.start), closedByEnd: true)))
            conditionWaits[t] = nil
        }
        for (lock, hold) in holds[t].sortedByLock {
            endHold(thread: t, lock: lock, hold: hold, at: time, byEnd: true, &sink)
        }
    }
}
