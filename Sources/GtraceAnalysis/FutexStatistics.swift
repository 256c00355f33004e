import GtraceFormat

/// What was seen of one futex word (lock kind `futex`, docs/METRICS.md,
/// "Futex words"): only its waits and wakes. An uncontended acquisition and
/// every hold never enter the kernel, so there are no hold times.
public struct FutexStatistics: Sendable, Codable, Equatable {
    /// Waits that returned (FUTEX_WAIT, WAIT_BITSET, LOCK_PI...).
    public var waits = 0
    /// Returned 0: woken by a wake call (or a PI lock taken).
    public var woken = 0
    /// EAGAIN: the word had already changed (the holder let go first).
    public var valueChanged = 0
    public var timedOut = 0
    /// EINTR: a signal handler ran.
    public var interrupted = 0
    public var otherErrors = 0
    /// Wake calls (WAKE, WAKE_BITSET, WAKE_OP, requeues, UNLOCK_PI) and the
    /// threads they reported woken (plus requeued).
    public var wakeCalls = 0
    public var threadsWoken = 0
    /// Distinct threads that called wake on the word.
    public var wakers = 0
    /// Woken waits whose latest preceding wake on the word came from another
    /// thread: a hand-off from that thread (the replay and the critical path use them).
    public var handOffs = 0
    /// Wake calls that woke more than one thread (a broadcast: an event, a barrier,
    /// a condition's notify_all). A mutex's unlock wakes one waiter at a time.
    public var wakesOfSeveral = 0
    /// Wakers that also waited on the word. A mutex is woken by its holders, who
    /// contend for it too; an event or a queue is woken by threads that never wait on it.
    public var wakersThatWaited = 0

    public init() {}

    /// Used as a lock, as far as its waits and wakes show: every wake handed it to
    /// one thread, and some thread that woke it also waited for it. Without its
    /// holds gtrace cannot tell a mutex from an event otherwise, so the verdict
    /// says a futex word serialises the threads only when it looks like one.
    public var looksLikeALock: Bool { wakesOfSeveral == 0 && wakersThatWaited > 0 }
}

/// Counts each futex word's waits by outcome and its wakes, and remembers the
/// latest waker of every word (the hand-offs).
struct FutexAccumulator {
    private var counts: [Int: FutexStatistics] = [:]
    private var wakerThreads: [Int: Set<Int>] = [:]
    private var waiterThreads: [Int: Set<Int>] = [:]

    /// Each word's statistics, with the wakers that also waited counted.
    var stats: [Int: FutexStatistics] {
        counts.reduce(into: [:]) { out, entry in
            var s = entry.value
            s.wakersThatWaited = wakerThreads[entry.key, default: []].intersection(waiterThreads[entry.key, default: []]).count
            out[entry.key] = s
        }
    }
    /// The latest thread that called wake on each word.
    private(set) var lastWaker: [Int: Int] = [:]

    static let eagain: Int32 = 11, etimedout: Int32 = 110, eintr: Int32 = 4

    mutating func consume(_ e: TraceEvent) {
        switch e.kind {
        case let .futexWoke(lock, result):
            var s = counts[lock] ?? FutexStatistics()
            s.waits += 1
            waiterThreads[lock, default: []].insert(e.thread)
            switch -result {
            case 0:
                s.woken += 1
                if let waker = lastWaker[lock], waker != e.thread { s.handOffs += 1 }
            case Self.eagain: s.valueChanged += 1
            case Self.etimedout: s.timedOut += 1
            case Self.eintr: s.interrupted += 1
            default: s.otherErrors += 1
            }
            counts[lock] = s
        case let .futexWake(lock, result):
            var s = counts[lock] ?? FutexStatistics()
            s.wakeCalls += 1
            if result > 0 { s.threadsWoken += Int(result) }
            if result > 1 { s.wakesOfSeveral += 1 }
            if wakerThreads[lock, default: []].insert(e.thread).inserted { s.wakers += 1 }
            lastWaker[lock] = e.thread
            counts[lock] = s
        default:
            break
        }
    }
}

extension LockStatistics {
    /// A futex word's row: its waits by outcome; woken and EAGAIN waits count
    /// as contended acquisitions (the uncontended ones are never seen).
    func withFutex(_ futex: FutexStatistics?) -> LockStatistics {
        guard kind == LockKind.futex.label else { return self }
        var s = self
        let f = futex ?? FutexStatistics()
        s.futex = f
        s.acquisitions = f.woken + f.valueChanged
        s.contendedAcquisitions = s.acquisitions
        s.ownerChanges = f.handOffs
        return s
    }
}
