import GtraceFormat

/// Locks whose every wait was a join (docs/METRICS.md, "Replay"): each wait
/// that got the lock ended within `slack` of the end of another thread of the
/// waiter's process, or was ended by a release its thread made as it ended (no
/// wait after it and at most `endingEvents` events before its end, however
/// long a busy machine kept it from running them), and no waiter then held the
/// lock longer than `slack` before letting it go.
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
    /// A thread's last records after the release that lets its joiner go: up
    /// to 3.12 it takes and lets go the interpreter's thread-list lock and the
    /// GIL (5 records), from 3.13 it ends at once.
    static let endingEvents = 16

    /// Per process, the end times of its threads, sorted.
    private let threadEnds: [[UInt64]]
    private let threadProcess: [Int]
    private let threadEnd: [UInt64?]
    private let gilLocks: Set<Int>
    /// Per lock: waits that got it, and those of them that ended at another thread's end.
    private var waits: [Int: (acquired: Int, atThreadEnd: Int)] = [:]
    /// Per lock: its last release, as (thread, serial number of the release)
    /// (thread -1: none). Arrays, not dictionaries: this sees every event.
    private var lastRelease: [(thread: Int, serial: Int)]
    private var releases = 0
    private let isGIL: [Bool]
    /// Per lock: the releases that ended its waits not near a thread's end
    /// (they may still be releases made as the releaser ended).
    private var waitsReleasedBy: [Int: [Int]] = [:]
    /// Per thread: its events since its first release after its last wait
    /// (-1: it waited since), and its releases in the last `endingEvents` of
    /// them, with the count at each.
    private var eventsSinceWait: [Int]
    private var recentReleases: [[(serial: Int, at: Int)]]
    /// Releases their thread made as it ended (`endingEvents`), by serial number.
    private var releasedAsEnded: Set<Int> = []
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
        isGIL = tables.locks.map { $0.kind == .gil }
        lastRelease = Array(repeating: (-1, 0), count: tables.locks.count)
        eventsSinceWait = Array(repeating: -1, count: tables.threads.count)
        recentReleases = Array(repeating: [], count: tables.threads.count)
    }

    /// Every event, in time order, before `LockIntervalTracker` sees it.
    mutating func consume(_ event: TraceEvent) {
        let thread = event.thread
        guard eventsSinceWait.indices.contains(thread) else { return }
        switch event.kind {
        case .cpuIn, .cpuOut, .pythonLocation, .pythonSample:
            return  // scheduling and locations are not the thread's own steps
        case .lockWait, .conditionWait, .blockBegin:
            eventsSinceWait[thread] = -1
            recentReleases[thread].removeAll()
            return
        case let .lockRelease(lock, _):
            guard lastRelease.indices.contains(lock), !isGIL[lock] else { break }
            releases += 1
            lastRelease[lock] = (thread, releases)
            if eventsSinceWait[thread] < 0 { eventsSinceWait[thread] = 0 }
            let recent = eventsSinceWait[thread] - Self.endingEvents
            recentReleases[thread].removeAll { $0.at < recent }  // too far from any end now
            recentReleases[thread].append((releases, eventsSinceWait[thread]))
        case .threadEnd:
            let events = eventsSinceWait[thread]
            for r in recentReleases[thread] where events - r.at <= Self.endingEvents {
                releasedAsEnded.insert(r.serial)
            }
            recentReleases[thread].removeAll()
            return
        default:
            break
        }
        if eventsSinceWait[thread] >= 0 { eventsSinceWait[thread] += 1 }
    }

    /// A lock transition from `LockIntervalTracker`.
    mutating func apply(_ transition: LockIntervalTracker.Transition) {
        guard case let .closed(interval) = transition, threadProcess.indices.contains(interval.thread) else { return }
        if case .hold(contended: true) = interval.kind {
            // A hold its thread never let go ends with the thread: no work done under
            // the lock (a 3.13 joiner's parking semaphore, which only the joined thread posts).
            if !interval.closedByEnd, interval.end > interval.start, interval.end - interval.start > Self.slack {
                heldAfterWait.insert(interval.lock)
            }
            return
        }
        guard case .wait(acquired: true) = interval.kind else { return }
        var counts = waits[interval.lock, default: (0, 0)]
        counts.acquired += 1
        if endsNear(interval.end, process: threadProcess[interval.thread], waiter: interval.thread) {
            counts.atThreadEnd += 1
        } else if lastRelease.indices.contains(interval.lock), case let release = lastRelease[interval.lock],
                  release.thread >= 0, release.thread != interval.thread, threadProcess[release.thread] == threadProcess[interval.thread] {
            waitsReleasedBy[interval.lock, default: []].append(release.serial)  // decided at the releaser's end
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

    /// The locks every acquired wait of which ended at another thread's end.
    var joinLocks: Set<Int> {
        Set(waits.filter { lock, counts in
            let asEnded = waitsReleasedBy[lock, default: []].filter { releasedAsEnded.contains($0) }.count
            return counts.acquired > 0 && counts.atThreadEnd + asEnded == counts.acquired
        }.keys)
            .subtracting(heldAfterWait).subtracting(gilLocks)
    }
}
