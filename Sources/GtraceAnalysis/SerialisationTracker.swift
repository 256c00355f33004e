import GtraceFormat

/// Serialised work per lock (docs/METRICS.md, "Parallelism"): the time during
/// which a holder of the lock was on a CPU while at least one other thread of
/// the same process waited for it. Time a holder sat preempted or blocked, and
/// holds nobody waited for, do not count: they did not keep anybody's work
/// from running. Without perf every thread counts as on a CPU.
///
/// A rwlock's read holds do not count: readers hold it together, so a writer
/// waiting for them is kept out, but their own work is not serialised.
///
/// A Python lock held for (nearly) its holder's whole life is that thread's
/// `_tstate_lock`: waiting for it is a join, waiting for the thread to end,
/// not for a critical section. Such a lock serialises nothing.
struct SerialisationTracker {
    /// Python locks (kind `pythonLock`); the lifetime of each thread.
    private let pythonLocks: LockSet
    private let lifetimes: [(start: UInt64, end: UInt64?)]
    private var lifetimeLocks: Set<Int> = []
    private var onCPU: [Bool]
    private var held: [[Int]]
    private var waiters: [Int]
    private var onCPUHolders: [Int]
    private var since: [UInt64?]
    private(set) var serialised: [UInt64]

    init(tables: TraceTables) {
        let threads = tables.threads.count, locks = tables.locks.count
        pythonLocks = LockSet(tables.locks.filter { $0.kind == .pythonLock }.map(\.index))
        lifetimes = tables.threads.map { ($0.startNanoseconds, $0.endNanoseconds) }
        onCPU = Array(repeating: true, count: threads)
        held = Array(repeating: [], count: threads)
        waiters = Array(repeating: 0, count: locks)
        onCPUHolders = Array(repeating: 0, count: locks)
        since = Array(repeating: nil, count: locks)
        serialised = Array(repeating: 0, count: locks)
    }

    private mutating func update(_ lock: Int, at time: UInt64) {
        let active = waiters[lock] > 0 && onCPUHolders[lock] > 0
        if active, since[lock] == nil {
            since[lock] = time
        } else if !active, let start = since[lock] {
            serialised[lock] = serialised[lock].adding(saturating: time > start ? time - start : 0)
            since[lock] = nil
        }
    }

    /// A lock transition from `LockIntervalTracker`.
    mutating func apply(_ transition: LockIntervalTracker.Transition) {
        switch transition {
        case let .holdBegan(thread, lock, time, _, _, shared, _):
            guard !shared, onCPU.indices.contains(thread), waiters.indices.contains(lock) else { return }
            held[thread].append(lock)
            if onCPU[thread] { onCPUHolders[lock] += 1 }
            update(lock, at: time)
        case let .waitBegan(_, lock, time):
            guard waiters.indices.contains(lock) else { return }
            waiters[lock] += 1
            update(lock, at: time)
        case let .closed(interval):
            let lock = interval.lock, thread = interval.thread
            guard onCPU.indices.contains(thread), waiters.indices.contains(lock) else { return }
            switch interval.kind {
            case .hold:
                if pythonLocks.contains(lock), let end = lifetimes[thread].end, end > lifetimes[thread].start {
                    let life = end - lifetimes[thread].start
                    // ≥ 90% of the life, without multiplying: times reach 2^62 ns in a hostile trace.
                    if interval.end > interval.start, interval.end - interval.start >= life - life / 10 { lifetimeLocks.insert(lock) }
                }
                if let i = held[thread].firstIndex(of: lock) {
                    held[thread].remove(at: i)
                    if onCPU[thread] { onCPUHolders[lock] -= 1 }
                }
                update(lock, at: interval.end)
            case .wait:
                waiters[lock] = max(0, waiters[lock] - 1)
                update(lock, at: interval.end)
            case .conditionWait:
                break
            }
        case .trylockBusy, .conditionWaitBegan, .reacquired:
            break
        }
    }

    /// A perf switch of `thread` at `time`.
    mutating func switched(thread: Int, onCPU now: Bool, at time: UInt64) {
        guard onCPU.indices.contains(thread), onCPU[thread] != now else { return }
        onCPU[thread] = now
        for lock in held[thread] {
            onCPUHolders[lock] += now ? 1 : -1
            update(lock, at: time)
        }
    }

    /// Closes what is still counting at the end of the trace.
    mutating func finish(at time: UInt64) {
        for lock in since.indices { if let start = since[lock] { serialised[lock] = serialised[lock].adding(saturating: time > start ? time - start : 0); since[lock] = nil } }
        for lock in lifetimeLocks { serialised[lock] = 0 }
    }
}
