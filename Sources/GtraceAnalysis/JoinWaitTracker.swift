import GtraceFormat

/// Locks whose every wait was a join (docs/METRICS.md, "Replay"): each wait
/// that got the lock ended within `slack` of the end of another thread of the
/// waiter's process, or was ended by a release its thread made as it ended
/// (`ThreadEndings`: however long a busy machine kept it from running its last
/// steps), and no waiter then held the lock longer than `slack` before letting
/// it go (not counting its own waits for other locks meanwhile).
/// CPython's `Thread.join` waits so: on the joined thread's `_tstate_lock` up
/// to 3.12, which that thread releases as it ends and the joiner releases at
/// once, and from 3.13 on an event it sets as it ends. (Threads that each hold
/// a lock for their whole work and end also hand it over as they end, but each
/// waiter then holds it for its own work: that lock serialises them, and stays
/// a what-if.) GILs are not joins. A "without lock" what-if of such a lock
/// would let the joiner run on before the thread it joins has ended (in a NumPy
/// program the main thread then reached the interpreter's exit with the GIL
/// while the workers still ran, and the replay predicted 1.9× the time): it is
/// another program, not the same one with a lock fewer.
struct JoinWaitTracker {
    /// A thread's end is recorded after it lets its joiner go (it still unwinds),
    /// and the joiner's wait ends after its wake-up.
    static let slack: UInt64 = 2_000_000

    /// Per process, the end times of its threads, sorted.
    private let threadEnds: [[UInt64]]
    private let threadProcess: [Int]
    private let threadEnd: [UInt64?]
    private let gilLocks: Set<Int>
    /// Per lock: waits that got it, and those of them that ended at another thread's end.
    private var waits: [Int: (acquired: Int, atThreadEnd: Int)] = [:]
    /// Per lock: the releases that ended its waits not near a thread's end,
    /// as (releasing thread, time): releases made as the releaser ended count
    /// too (`ThreadEndings`).
    private var undecided: [Int: [(thread: Int, time: UInt64)]] = [:]
    /// Locks held longer than `slack` after a wait for them.
    private var heldAfterWait: Set<Int> = []

    init(tables: TraceTables) {
        var ends = Array(repeating: [UInt64](), count: tables.processes.count)
        for t in tables.threads {
            if let end = t.endNanoseconds, ends.indices.contains(t.process) { ends[t.process].append(end) }
        }
        threadEnds = ends.map { $0.sorted() }
        threadProcess = tables.threads.map(\.process)
        threadEnd = tables.threads.map(\.endNanoseconds)
        gilLocks = Set(tables.locks.filter { $0.kind == .gil }.map(\.index))
    }

    /// A lock transition from `LockIntervalTracker`.
    mutating func apply(_ transition: LockIntervalTracker.Transition) {
        guard case let .closed(interval) = transition, threadProcess.indices.contains(interval.thread) else { return }
        if case .hold(contended: true) = interval.kind {
            // A hold its thread never let go ends with the thread: no work done under
            // the lock (a 3.13 joiner's parking semaphore, which only the joined thread posts).
            // Nor is its thread's wait for its GIL or another lock meanwhile: a 3.11 joiner on
            // a busy machine waited 2.5 ms for the GIL before it let the `_tstate_lock` go.
            let worked = interval.duration > interval.waitedWithin ? interval.duration - interval.waitedWithin : 0
            if !interval.closedByEnd, worked > Self.slack { heldAfterWait.insert(interval.lock) }
            return
        }
        guard case .wait(acquired: true) = interval.kind else { return }
        var counts = waits[interval.lock, default: (0, 0)]
        counts.acquired += 1
        if endsNear(interval.end, process: threadProcess[interval.thread], waiter: interval.thread) {
            counts.atThreadEnd += 1
        } else if threadProcess.indices.contains(interval.lastReleaser), interval.lastReleaser != interval.thread,
                  threadProcess[interval.lastReleaser] == threadProcess[interval.thread] {
            undecided[interval.lock, default: []].append((interval.lastReleaser, interval.lastReleaseTime))
        }
        waits[interval.lock] = counts
    }

    /// Whether a thread of `process` other than `waiter` ended within `slack` of `time`.
    private func endsNear(_ time: UInt64, process: Int, waiter: Int) -> Bool {
        guard threadEnds.indices.contains(process) else { return false }
        let ends = threadEnds[process]
        let low = time > Self.slack ? time - Self.slack : 0
        // The first end at or after `low`, by bisection.
        var lo = 0, hi = ends.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ends[mid] < low { lo = mid + 1 } else { hi = mid }
        }
        var i = lo
        let high = time.adding(saturating: Self.slack)
        while i < ends.count, ends[i] <= high {
            // The waiter's own end is not a join (it ended right after its wait).
            if threadEnd[waiter] != ends[i] { return true }
            i += 1
        }
        return false
    }

    /// The locks every acquired wait of which ended at another thread's end, or
    /// by a release its thread made as it ended.
    func joinLocks(_ endings: ThreadEndings) -> Set<Int> {
        Set(waits.filter { lock, counts in
            let asEnded = undecided[lock, default: []].filter { endings.releasedAsItEnded(thread: $0.thread, at: $0.time) }.count
            return counts.acquired > 0 && counts.atThreadEnd + asEnded == counts.acquired
        }.keys)
            .subtracting(heldAfterWait).subtracting(gilLocks)
    }
}
