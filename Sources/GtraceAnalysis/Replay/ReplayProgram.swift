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
        /// A delay between the tries of a lock its thread polled (failed trylocks and a sleep
        /// between them, then the lock): part of its wait for `lock`, gone in a scenario
        /// without that lock.
        case pollDelay(UInt64, lock: Int)
        case acquire(lock: Int)
        /// A rwlock's read lock: held by any number of readers while no writer holds it.
        case acquireShared(lock: Int)
        /// Ends the thread's hold of the lock, in the mode it was taken.
        case release(lock: Int)
        /// Wait until thread `thread` has completed `ops` operations (or ended):
        /// a join, a semaphore or condition wait, woken by that thread. `lock`:
        /// the lock the wait was for when it has no holds to replay (a Python
        /// lock's semaphore, a futex word), so that a scenario without it drops it.
        case waitFor(thread: Int, ops: Int, lock: Int? = nil)
        /// A Python lock taken (`sem_trywait` or `sem_wait` returned): one of its
        /// tokens, waiting in FIFO order for a `post` when it has none. Only in a
        /// scenario without the GIL: with it, a take that had to wait would hold
        /// the GIL the poster needs, where CPython lets it go (`ReplaySimulator`).
        case take(lock: Int)
        /// A Python lock let go (`sem_post`): a token for its first taker waiting, or kept.
        case post(lock: Int)
        /// Wait until every thread of the processes with this pid has ended.
        case waitChild(pid: Int32)
        /// Time the recording lost to the machine, not to the program: runnable
        /// while fewer of the tree's threads than CPUs ran (another program had
        /// the CPU), and the wake-up latency after a waker let the thread go. A
        /// delay in the replay of the recording as it was; nothing in predictions,
        /// which assume an idle machine.
        case foreign(UInt64)

        var isToken: Bool {
            switch self {
            case .take, .post: return true
            default: return false
            }
        }
    }

    /// A wait the replay keeps as a fixed delay because it could not tie its
    /// end to another thread of the tree (docs/METRICS.md, "Replay").
    public struct UnexplainedWait: Sendable {
        public var thread: Int
        /// The call: "read(fd 5)", "poll(2 fds)", "sem_wait", "off-CPU outside any recorded call".
        public var what: String
        public var startNanoseconds: UInt64
        public var nanoseconds: UInt64
        /// Tied to a waker guessed by time (replayed as a wait for it), not kept as recorded.
        public var wakerGuessed = false
    }

    public struct Thread: Sendable {
        public var index: Int
        public var process: Int
        public var tid: Int32
        /// The thread may start once `thread` completed `ops` operations; nil: at `startNanoseconds`.
        public var startAfter: (thread: Int, ops: Int)?
        public var startNanoseconds: UInt64
        public var ops: [Op] = []
        /// Compute operations that go on from the compute before the token operations in
        /// front of them, as one, where tokens are not replayed: without those, the two
        /// would have been one operation (the thread keeps its CPU and its slice).
        public var continuesAcrossTokens: Set<Int> = []
        /// The thread that ended this one's process (exit, a return from main) while this
        /// one was still running: it ends there, wherever it is, as the process's other
        /// threads do at an exit (nil: it ended by itself).
        public var killedAtExitOf: Int?
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
    /// The largest waits kept as fixed delays without a known waker, largest first.
    public var unexplainedWaits: [UnexplainedWait] = []
    /// Their total over the whole run.
    public var unexplainedNanoseconds: UInt64 = 0
    /// The part of it kept as recorded (fixed delays): no waker, not even a guessed one.
    public var keptNanoseconds: UInt64 = 0
    /// Waits another thread ended (a lock hand-off, a signal, a post, a join, a
    /// child's end) and their total wake-up latency: from that moment to the
    /// waiter's next record. Replayed only in the self-replay (`foreignLoad`).
    public var wakeUps = 0
    public var wakeUpNanoseconds: UInt64 = 0
    /// Per Python lock with `take`/`post` operations, the tokens it starts with: the
    /// fewest that let the recorded order of takes and posts run (1 for the locks
    /// `ReplayBuilder.keepTokens` keeps, all used as mutexes).
    public var initialTokens: [Int: Int] = [:]
    /// Those of them whose tokens are replayed in every scenario, not only without the
    /// GIL: binary semaphores (lock kind `semaphore`), a C program's mutexes, which no
    /// GIL keeps in turn. A Python lock's tokens need the GIL gone: with it, a thread
    /// that waited for a token would hold the GIL, a deadlock the recording never had.
    public var tokensWithGIL: Set<Int> = []
    /// Per thread: its off-CPU time outside any recorded call that the builder tied to a
    /// child of its process ending in it (libc's system() and pclose() wait inside libc),
    /// and in how many stretches. Filled even beyond the operation limit.
    public var unseenChildWaits: [UnseenChildWait] = []
}

public struct UnseenChildWait: Sendable, Equatable {
    public var nanoseconds: UInt64
    public var stretches: Int
}

