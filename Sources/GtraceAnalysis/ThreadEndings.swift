import GtraceFormat

/// Where each thread's last steps began: after its last wait, and no more than
/// `steps` of its own events before its end. A release from there on was made
/// as the thread ended: a joined thread lets its joiner go so (up to 3.12 it
/// then takes and lets go the interpreter's thread-list lock and the GIL, 5
/// records; from 3.13 it ends at once), however long a busy machine keeps it
/// from running those last steps (`JoinWaitTracker`). Fed every event outside
/// the lock-transition closure: a value captured by that closure cost ~15 ns
/// per event to update.
struct ThreadEndings {
    static let steps = 16
    /// Per thread, a ring of the times of its last `steps` + 1 own events.
    private var recent: [UInt64]
    private var next: [Int]
    private var count: [Int]
    /// Per thread: just after its last wait (0: none yet).
    private var afterWait: [UInt64]
    /// Per thread: where its last steps began (nil: it has not ended).
    private var lastStepsFrom: [UInt64?]
    private static let ring = steps + 1

    init(threads: Int) {
        recent = Array(repeating: 0, count: threads * Self.ring)
        next = Array(repeating: 0, count: threads)
        count = Array(repeating: 0, count: threads)
        afterWait = Array(repeating: 0, count: threads)
        lastStepsFrom = Array(repeating: nil, count: threads)
    }

    mutating func consume(_ event: TraceEvent) {
        let t = event.thread
        guard next.indices.contains(t) else { return }
        switch event.kind {
        case .cpuIn, .cpuOut, .pythonLocation, .pythonSample:
            return  // scheduling and locations are not the thread's own steps
        case .lockWait, .conditionWait, .blockBegin:
            afterWait[t] = event.time &+ 1
        case .threadEnd:
            // The oldest of the last `ring` events (the release itself among them).
            let oldest = count[t] >= Self.ring ? recent[t * Self.ring + next[t]] : 0
            lastStepsFrom[t] = max(oldest, afterWait[t])
            return
        default:
            break
        }
        recent[t * Self.ring + next[t]] = event.time
        next[t] = next[t] + 1 == Self.ring ? 0 : next[t] + 1
        count[t] += 1
    }

    /// Whether `thread` released something at `time` as it ended.
    func releasedAsItEnded(thread: Int, at time: UInt64) -> Bool {
        guard lastStepsFrom.indices.contains(thread), let from = lastStepsFrom[thread] else { return false }
        return time >= from
    }
}
