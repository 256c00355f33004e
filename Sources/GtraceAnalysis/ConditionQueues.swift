import GtraceFormat

/// Condition waits grouped by the mutex they release (docs/METRICS.md,
/// "Threads taking turns through a mutex"). A runtime that lets one thread run
/// at a time can park each thread on a condition variable of its own, all
/// paired with one mutex: Ruby's GVL (each thread waits on its own `cond` with
/// the GVL's `lock`), CPython's GIL were it not found by its layout. The
/// condition table (one row per condition) does not show them as one queue.
public struct ConditionQueueStatistics: Sendable, Codable {
    /// The mutex's lock index and name, as in the lock table.
    public var lock: Int
    public var pid: Int32
    public var name: String
    public var waits: Int
    public var waitNanoseconds: UInt64
    /// The threads that waited, by index.
    public var threads: [Int]
    /// Each of those threads' time waiting, in the same order.
    public var threadWaitNanoseconds: [UInt64]
}

/// Fed every event in time order; `statistics` gives the mutexes with the most
/// condition waiting, most first.
struct ConditionQueueAccumulator {
    private var open: [Int: (mutex: Int, start: UInt64)] = [:]  // thread → its open wait
    private var totals: [Int: (waits: Int, nanoseconds: UInt64, threads: [Int: UInt64])] = [:]

    mutating func consume(_ event: TraceEvent) {
        switch event.kind {
        case let .conditionWait(_, mutex):
            open[event.thread] = (mutex, event.time)
        case .conditionWoke:
            close(event.thread, at: event.time)
        case .threadEnd:
            close(event.thread, at: event.time)
        default:
            break
        }
    }

    private mutating func close(_ thread: Int, at time: UInt64) {
        guard let wait = open.removeValue(forKey: thread) else { return }
        var total = totals[wait.mutex] ?? (0, 0, [:])
        let ns = time > wait.start ? time - wait.start : 0
        total.waits += 1
        total.nanoseconds = total.nanoseconds.adding(saturating: ns)
        total.threads[thread, default: 0] = total.threads[thread, default: 0].adding(saturating: ns)
        totals[wait.mutex] = total
    }

    mutating func finish(at time: UInt64) {
        for thread in open.keys.sorted() { close(thread, at: time) }
    }

    func statistics(locks: [LockStatistics], limit: Int = 5) -> [ConditionQueueStatistics] {
        totals.compactMap { mutex, total -> ConditionQueueStatistics? in
            guard let lock = locks.first(where: { $0.index == mutex }) else { return nil }
            let threads = total.threads.keys.sorted()
            return ConditionQueueStatistics(lock: mutex, pid: lock.pid, name: lock.name, waits: total.waits,
                                            waitNanoseconds: total.nanoseconds, threads: threads,
                                            threadWaitNanoseconds: threads.map { total.threads[$0] ?? 0 })
        }
        .sorted { ($0.waitNanoseconds, -$0.lock) > ($1.waitNanoseconds, -$1.lock) }
        .prefix(limit).map { $0 }
    }
}
