import GtraceFormat

/// The lock, thread and GIL tables' running totals, fed with the transitions of
/// `LockIntervalTracker`: the lock half of the report's pass. A struct the tracker
/// updates in place, where they were variables an `apply` closure captured (no
/// difference in speed measured: BENCHMARKS.md, session 29).
struct LockTransitionAccumulator: LockTransitionSink {
    var locks: [LockAccumulator]
    var threads: [ThreadAccumulator]
    /// By lock index (an array, not a dictionary: it is looked up at every lock event).
    var gils: [GILAccumulator?]
    /// Holds of locks other than the GIL, for the thread timeline: drained after each event.
    var heldIntervals: [(thread: Int, start: UInt64, end: UInt64)] = []
    var serialisation: SerialisationTracker
    var joinWaits: JoinWaitTracker
    var pythonWaits: PythonLockWaitAccumulator
    let pythonWaitsEnabled: Bool

    init(tables: TraceTables, traceEndGuess: UInt64) {
        locks = tables.locks.map { LockAccumulator(info: $0) }
        threads = tables.threads.map { ThreadAccumulator(info: $0) }
        gils = Array(repeating: nil, count: tables.locks.count)
        for info in tables.gils {
            if let lock = info.lock, tables.locks.indices.contains(lock) {
                gils[lock] = GILAccumulator(info: info, lock: lock, tables: tables, traceEnd: traceEndGuess)
            }
        }
        serialisation = SerialisationTracker(tables: tables)
        joinWaits = JoinWaitTracker(tables: tables)
        pythonWaits = PythonLockWaitAccumulator(tables: tables)
        pythonWaitsEnabled = pythonWaits.isEnabled
    }

    mutating func apply(_ transition: LockIntervalTracker.Transition) {
        serialisation.apply(transition)
        joinWaits.apply(transition)
        switch transition {
        case let .holdBegan(thread, lock, time, contended, viaCondition, _, previousOwner):
            guard locks.indices.contains(lock) else { return }
            locks[lock].acquisitions += 1
            if contended {
                locks[lock].contended += 1
                if gils[lock] == nil { threads[thread].contended += 1 }  // lock is a valid index (guard above)
            }
            if !viaCondition, let previousOwner, previousOwner != thread { locks[lock].ownerChanges += 1 }
            locks[lock].holderBegan(at: time)
            locks[lock].used(by: thread)
            if gils[lock] != nil {
                gils[lock]?.acquired(thread: thread, at: time)
                return  // the GIL is not "a lock the thread holds" in the thread table
            }
            threads[thread].acquisitions += 1
            threads[thread].holdBegan(at: time)
        case let .reacquired(thread, lock, _, contended):
            guard locks.indices.contains(lock) else { return }
            locks[lock].acquisitions += 1
            if contended { locks[lock].contended += 1 }
            if gils[lock] == nil {
                threads[thread].acquisitions += 1
                if contended { threads[thread].contended += 1 }
            }
        case .waitBegan, .conditionWaitBegan:
            break
        case let .trylockBusy(_, lock, _):
            if locks.indices.contains(lock) { locks[lock].trylockBusy += 1 }
        case let .closed(interval):
            guard locks.indices.contains(interval.lock) else { return }
            switch interval.kind {
            case .hold:
                locks[interval.lock].holdEnded(interval)
                if gils[interval.lock] != nil {
                    gils[interval.lock]?.holdEnded(interval)
                    threads[interval.thread].gilHoldingNanoseconds = threads[interval.thread].gilHoldingNanoseconds.adding(saturating: interval.duration)
                } else {
                    threads[interval.thread].holdEnded(at: interval.end)
                    heldIntervals.append((interval.thread, interval.start, interval.end))
                }
            case let .wait(acquired):
                locks[interval.lock].waitEnded(interval)
                if !acquired && !interval.closedByEnd { locks[interval.lock].failed += 1 }
                if pythonWaitsEnabled { pythonWaits.waitEnded(thread: interval.thread, lock: interval.lock, nanoseconds: interval.duration) }
                if gils[interval.lock] != nil {
                    threads[interval.thread].gilWaitingNanoseconds = threads[interval.thread].gilWaitingNanoseconds.adding(saturating: interval.duration)
                } else {
                    threads[interval.thread].waitingNanoseconds = threads[interval.thread].waitingNanoseconds.adding(saturating: interval.duration)
                }
            case .conditionWait:
                locks[interval.lock].waitEnded(interval)
                threads[interval.thread].conditionWaitNanoseconds = threads[interval.thread].conditionWaitNanoseconds.adding(saturating: interval.duration)
            }
        }
    }
}
