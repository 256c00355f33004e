import GtraceFormat

/// Builds a `ReplayProgram` from the event stream, one event at a time in
/// time order (docs/METRICS.md, "Replay"). Between two operations of a thread,
/// its time is split by the same state machine as the thread states: running
/// → compute, other off-CPU, sleeping and I/O → delay; runnable and lock/GIL
/// waits are left out (the replay recreates them), except the part of them
/// the machine, not the program, caused (`foreign`).
///
/// A wait ends when its waker reached the point where it woke it: the writer
/// of the pipe or socket a read blocked on, the signaller of a condition, the
/// releaser of a lock, the child a wait reaped (its last image, after every
/// exec), the parent that killed a child.
struct ReplayBuilder {
    typealias Point = (thread: Int, ops: Int, time: UInt64)

    private let tables: TraceTables
    private var machines: [ThreadStateMachine]
    private var threads: [ReplayProgram.Thread]
    private var lastTimes: [ThreadStateTimes]
    private var lastEventTime: [UInt64]
    private var begun: [Bool]
    private var firstEventTime: [UInt64]
    private var forkPoint: [Int32: Point] = [:]
    /// Each process's children that ended (pids, by end time), and those a wait is tied to
    /// (`unseenChildWait`).
    private let childrenOfProcess: [[(end: UInt64, pid: Int32)]]
    private var childTied: Set<Int32> = []
    /// Per thread, its off-CPU time tied to a child that way, and how many stretches.
    private var childTiedNanoseconds: [UInt64]
    private var childTiedStretches: [Int]
    /// Each thread's time at its previous flush: where its current stretch began.
    private var flushedAt: [UInt64]
    /// Where the image that exec'd ended: the next image of that pid starts there.
    private var execPoint: [Int32: Point] = [:]
    private var blockCategory: [BlockingCall.Category?]
    private var blockBegan: [UInt64]
    private var blockSmall: [UInt32]
    private let gilLocks: Set<Int>
    private let gilLockSet: LockSet  // the same, for the per-event lookups
    private let perf: Bool
    private let cores: Int
    /// Beyond this many operations the program is dropped, so that memory stays
    /// bounded by threads and locks (docs/METRICS.md, "Replay").
    private let operationLimit: Int
    /// Tokens are kept only while the operations stay within this (the what-ifs' limit:
    /// kept tokens must not push a program the what-ifs replay beyond it).
    private let tokenLimit: Int
    private var operationCount = 0
    /// Operations before this index are never merged with a new one: another
    /// thread waits for the thread to complete exactly that many.
    private var barrier: [Int]

    // Wakers.
    private var lastWrite: [UInt64: Point] = [:]
    /// The latest read of each object (a pipe, a socket): what let a write that
    /// blocked on a full pipe go on (a parent feeding `gzip` through its stdin).
    private var lastRead: [UInt64: Point] = [:]
    struct ObjectKey: Hashable {
        var thread: Int
        var object: UInt64
    }
    /// A point's identity: its thread and op count. (An op count alone is no
    /// identity: two writers' counts can be equal, and a waiter then took the
    /// other writer's point for the one it had already waited for.)
    struct Taken: Hashable {
        var thread: Int
        var ops: Int
        init(_ p: Point) { (thread, ops) = (p.thread, p.ops) }
    }
    /// Per reader and object, the write the reader already waited for.
    private var consumed: [ObjectKey: Taken] = [:]
    private var ioWaitObject: [UInt64?]
    private var readyObjects: [[UInt64]]
    private var lastSignal: [Int: Point] = [:]
    /// The latest sem_post per semaphore (its address in its process): the waker
    /// of a sem_wait that blocked (outside CPython's locks, which are locks).
    private struct Semaphore: Hashable { var process: Int; var address: UInt64 }
    private var lastPost: [Semaphore: Point] = [:]
    /// The blocking call's 64-bit argument (a sem_wait's semaphore).
    private var blockArgument: [UInt64]
    private var conditionWaitBegan: [UInt64]
    private var timerWaits: TimerWaits
    /// CPython 3.14+ PyMutexes' futex words.
    private let pyMutexWords: Set<Int>
    private var lastRelease: [Int: Point] = [:]
    /// File-lock rows replayed as another row of the same file (its first).
    private var sameFileLock: [Int: Int] = [:]
    /// Per thread, a lock it polls: its first failed try's operation index, its last try.
    private var polls: [(lock: Int, ops: Int, last: UInt64)?]
    /// The latest wake call on each futex word (a futex wait woken after it waited for it).
    private var lastFutexWake: [Int: Point] = [:]
    private var lockWaitBegan: [UInt64]
    /// Python locks (POSIX semaphores up to CPython 3.13) and binary semaphores: any
    /// thread may post them, so they are replayed as signals, not as mutexes
    /// (`semaphore(_:_:_:)`), and as tokens where kept (`keepTokens`).
    private let semaphoreLocks: LockSet
    /// Per thread and Python lock, the post the thread already took.
    private var takenPost: [ObjectKey: Taken] = [:]
    /// The Python locks whose token operations `keepTokens()` kept: used as mutexes,
    /// each starts with one token (free).
    private var tokenLocks: [Int] = []
    /// Per Python lock: its token operations, and its holds that one thread took and
    /// let go (its current one, their count and total), for `keepTokens()`.
    private var tokenUse: [Int: (ops: Int, holder: Int, since: UInt64, holds: Int, held: UInt64, mutex: Bool)] = [:]
    /// Per Python lock, the threads that held it at least once, then those that held it twice.
    private var tokenHolders: [Int: (once: Set<Int>, twice: Set<Int>)] = [:]
    /// Token operations appended: counted apart from `operationCount` until `keepTokens()`.
    private var tokenOps = 0
    /// Per thread, the operations the base merge would have joined to the operation
    /// before the token operations in front of them (`append`).
    private var mergesAcrossTokens: [[Int]]
    /// The current blocking call was a Python lock's wait, already replayed.
    private var semaphoreWaitReplayed: [Bool]
    private var kills: [Int32: Point] = [:]
    /// The last blocking call kept as a delay: its op index, begin and end.
    private var lastBlockDelay: [(index: Int, begin: UInt64, end: UInt64)?]
    private let threadsOfProcess: [[Int]]
    private let processesOfPid: [Int32: [Int]]
    private let threadOfTid: [Int32: [Int]]

    // Foreign load: runnable while fewer of the tree's threads than CPUs ran.
    private var onCPUCount = 0
    private var counted: [Bool]
    private var ended: [Bool]
    private var foreignIntegral: UInt64 = 0
    private var sweptTo: UInt64 = 0
    private var runnableSince: [UInt64?]
    private var pendingForeign: [UInt64]

    private var unexplained: [ReplayProgram.UnexplainedWait] = []
    private var unexplainedTotal: UInt64 = 0
    private var keptTotal: UInt64 = 0
    private var wakeUps = 0
    private var wakeUpNanoseconds: UInt64 = 0

    init(tables: TraceTables, operationLimit: Int, tokenLimit: Int? = nil) {
        self.operationLimit = operationLimit
        self.tokenLimit = min(operationLimit, tokenLimit ?? operationLimit)
        self.tables = tables
        perf = tables.info["scheduling"] == "perf"
        cores = max(1, Int(tables.info["cpus"] ?? "") ?? 1)
        let n = tables.threads.count
        machines = ThreadStateMachine.machines(for: tables)
        threads = tables.threads.map {
            ReplayProgram.Thread(index: $0.index, process: $0.process, tid: $0.tid, startAfter: nil, startNanoseconds: $0.startNanoseconds)
        }
        lastTimes = Array(repeating: ThreadStateTimes(), count: n)
        lastEventTime = Array(repeating: 0, count: n)
        begun = Array(repeating: false, count: n)
        firstEventTime = Array(repeating: 0, count: n)
        blockCategory = Array(repeating: nil, count: n)
        blockBegan = Array(repeating: 0, count: n)
        blockSmall = Array(repeating: 0, count: n)
        blockArgument = Array(repeating: 0, count: n)
        mergesAcrossTokens = Array(repeating: [], count: n)
        gilLocks = Set(tables.gils.compactMap(\.lock))
        gilLockSet = LockSet(gilLocks)
        semaphoreLocks = LockSet(tables.locks.filter { $0.kind.isSemaphore }.map(\.index))
        // One file's lock has a row in each process that took it, with the same id:
        // the replay makes them one lock, whose release in one process lets a waiter
        // in another go on.
        var firstOfFile: [UInt64: Int] = [:]
        for lock in tables.locks where lock.kind == .fileLock {
            if let first = firstOfFile[lock.address] { sameFileLock[lock.index] = first } else { firstOfFile[lock.address] = lock.index }
        }
        semaphoreWaitReplayed = Array(repeating: false, count: n)
        barrier = Array(repeating: 0, count: n)
        ioWaitObject = Array(repeating: nil, count: n)
        readyObjects = Array(repeating: [], count: n)
        conditionWaitBegan = Array(repeating: 0, count: n)
        timerWaits = TimerWaits(threads: n)
        pyMutexWords = Set(tables.lockNames.filter { $0.name.hasPrefix(LockName.pyMutexPrefix) }.map(\.lock))
        lockWaitBegan = Array(repeating: 0, count: n)
        polls = Array(repeating: nil, count: n)
        lastBlockDelay = Array(repeating: nil, count: n)
        flushedAt = Array(repeating: 0, count: n)
        childTiedNanoseconds = Array(repeating: 0, count: n)
        childTiedStretches = Array(repeating: 0, count: n)
        counted = Array(repeating: false, count: n)
        ended = Array(repeating: false, count: n)
        runnableSince = Array(repeating: nil, count: n)
        pendingForeign = Array(repeating: 0, count: n)
        var byProcess = Array(repeating: [Int](), count: tables.processes.count)
        var byTid: [Int32: [Int]] = [:]
        for t in tables.threads {
            if byProcess.indices.contains(t.process) { byProcess[t.process].append(t.index) }
            byTid[t.tid, default: []].append(t.index)
        }
        threadsOfProcess = byProcess
        threadOfTid = byTid
        var byPid: [Int32: [Int]] = [:]
        for p in tables.processes { byPid[p.pid, default: []].append(p.index) }
        processesOfPid = byPid
        var children = Array(repeating: Set<Int32>(), count: tables.processes.count)
        for p in tables.processes {
            guard let parent = p.parent, children.indices.contains(parent), tables.processes[parent].pid != p.pid else { continue }
            children[parent].insert(p.pid)
        }
        childrenOfProcess = children.map { pids in
            pids.compactMap { pid in (byPid[pid] ?? []).compactMap { tables.processes[$0].endNanoseconds }.max().map { (end: $0, pid: pid) } }
                .sorted { ($0.end, $0.pid) < ($1.end, $1.pid) }
        }
    }

    // MARK: operations

    /// Work and delays since the thread's previous operation.
    private mutating func flush(_ t: Int) {
        let now = machines[t].times
        let before = lastTimes[t]
        // Saturating: a hostile file's times reach 2^62 ns, and these are sums of them.
        let compute = (now.runningNanoseconds - before.runningNanoseconds)
            .adding(saturating: now.runningWithGILNanoseconds - before.runningWithGILNanoseconds)
        var delay = now.otherOffCPUNanoseconds - before.otherOffCPUNanoseconds
        let child = delay >= Self.unexplainedMinimum && blockCategory[t] == nil ? unseenChildWait(t) : nil
        if child != nil {
            // The thread's wait for that child: no longer a fixed delay.
            childTiedNanoseconds[t] = childTiedNanoseconds[t].adding(saturating: delay)
            childTiedStretches[t] += 1
            delay = 0
        } else if delay >= Self.unexplainedMinimum {
            note(t, "off-CPU outside any recorded call", end: lastEventTime[t].adding(saturating: delay), delay)
        }
        if blockCategory[t] == nil {
            // Sleeping and I/O come from blocking calls; outside one they would be a plain delay.
            delay = delay.adding(saturating: (now.sleepingNanoseconds - before.sleepingNanoseconds)
                .adding(saturating: now.ioNanoseconds - before.ioNanoseconds))
        }
        if compute > 0 { append(t, .compute(compute)) }
        if let child { append(t, .waitChild(pid: child)) }
        if delay > 0 { append(t, .delay(delay)) }
        flushedAt[t] = machines[t].chargedUpTo ?? flushedAt[t]
        if pendingForeign[t] > 0 {
            append(t, .foreign(pendingForeign[t]))
            pendingForeign[t] = 0
        }
        lastTimes[t] = now
        if blockCategory[t] != nil {
            // Inside a blocking call: its waiting time is the call's, taken when it ends.
            lastTimes[t].sleepingNanoseconds = before.sleepingNanoseconds
            lastTimes[t].ioNanoseconds = before.ioNanoseconds
            lastTimes[t].childWaitNanoseconds = before.childWaitNanoseconds
        }
    }

    /// A child of the thread's process that ended while the thread was off the CPU outside
    /// any recorded call since its previous flush, and that no wait is tied to yet (the
    /// latest such): libc's system() and pclose() wait for their child inside libc, where no
    /// wrapper sees it. Four Python threads running Python children by `os.system` kept
    /// 0.8 s of such waits as fixed delays, and the replay predicted no gain on 4 cores for
    /// children that ran in parallel (0.27–0.29 s on 2 cores, 0.58 s on one). Which thread
    /// spawned which child is not recorded; threads woken by their children flush in the
    /// order the children ended, so the latest end is the thread's own.
    private mutating func unseenChildWait(_ t: Int) -> Int32? {
        let process = tables.threads[t].process
        guard let now = machines[t].chargedUpTo, childrenOfProcess.indices.contains(process) else { return nil }
        let from = flushedAt[t], children = childrenOfProcess[process]
        // The first child that ended after `now`, then back to `from`.
        var low = 0, high = children.count
        while low < high {
            let mid = (low + high) / 2
            if children[mid].end <= now { low = mid + 1 } else { high = mid }
        }
        var i = low - 1
        while i >= 0, children[i].end >= from {
            if !childTied.contains(children[i].pid) {
                childTied.insert(children[i].pid)
                return children[i].pid
            }
            i -= 1
        }
        return nil
    }

    private mutating func append(_ t: Int, _ op: ReplayProgram.Op) {
        guard operationCount <= operationLimit else { return }
        if op.isToken {
            threads[t].ops.append(op)
            tokenOps += 1
            return
        }
        // Merge neighbours of the same kind: fewer operations, same replay.
        if let last = threads[t].ops.last, threads[t].ops.count > barrier[t] {
            if let merged = Self.merged(last, op) {
                threads[t].ops[threads[t].ops.count - 1] = merged
                return
            }
            if last.isToken {
                // What the merge would do without the token operations in between, should
                // `keepTokens()` drop them all.
                var before = threads[t].ops.count - 2
                while before >= 0, before > threads[t].ops.count - 64, threads[t].ops[before].isToken { before -= 1 }
                if before >= barrier[t], Self.merged(threads[t].ops[before], op) != nil {
                    // Counted by `keepTokens()` if it stays apart.
                    mergesAcrossTokens[t].append(threads[t].ops.count)
                    threads[t].ops.append(op)
                    return
                }
            }
        }
        threads[t].ops.append(op)
        operationCount += 1
        if operationCount > operationLimit {
            for i in threads.indices { threads[i].ops = [] }
        }
    }

    /// Two neighbours of the same kind as one operation: the same replay.
    private static func merged(_ a: ReplayProgram.Op, _ b: ReplayProgram.Op) -> ReplayProgram.Op? {
        switch (a, b) {
        case let (.compute(x), .compute(y)): return .compute(x + y)
        case let (.delay(x), .delay(y)): return .delay(x + y)
        case let (.foreign(x), .foreign(y)): return .foreign(x + y)
        default: return nil
        }
    }

    /// The thread's progress now, as a point another thread can wait for.
    private mutating func point(_ t: Int, at time: UInt64) -> Point {
        barrier[t] = threads[t].ops.count
        return (t, threads[t].ops.count, time)
    }

    /// Waits for `waker`, plus the wake-up latency the recording shows after it;
    /// `lock`: the lock it waited for, when it has no holds to replay.
    private mutating func wait(_ t: Int, for waker: Point, until now: UInt64, lock: Int? = nil) {
        append(t, .waitFor(thread: waker.thread, ops: waker.ops, lock: lock))
        if now > waker.time { wokeUp(t, after: now - waker.time) }
    }

    /// The time from what let thread `t` go (a release, a signal, a post, an end) to
    /// its next record: the wake-up latency, replayed as the machine's time like
    /// other programs' load, and counted (`ReplayProgram.wakeUps`).
    private mutating func wokeUp(_ t: Int, after latency: UInt64) {
        append(t, .foreign(latency))
        wakeUps += 1
        wakeUpNanoseconds = wakeUpNanoseconds.adding(saturating: latency)
    }

    static let unexplainedMinimum: UInt64 = 1_000_000
    /// Foreign time from this much on gets its own operation at once.
    static let foreignSplit: UInt64 = 100_000

    private mutating func note(_ t: Int, _ what: String, end: UInt64, _ ns: UInt64, guessed: Bool = false) {
        guard ns > 0 else { return }
        unexplainedTotal = unexplainedTotal.adding(saturating: ns)
        if !guessed { keptTotal = keptTotal.adding(saturating: ns) }
        guard ns >= Self.unexplainedMinimum else { return }
        unexplained.append(.init(thread: t, what: what, startNanoseconds: end > ns ? end - ns : 0, nanoseconds: ns, wakerGuessed: guessed))
        if unexplained.count > 512 {
            unexplained.sort { $0.nanoseconds > $1.nanoseconds }
            unexplained.removeLast(unexplained.count - 64)
        }
    }

    /// The thread, other than `t`, whose latest event is nearest before `time`:
    /// taken as the one that woke `t` when no record names the waker.
    private func guessedWaker(of t: Int, at time: UInt64) -> Int? {
        var best: Int?
        for other in threads.indices where other != t && begun[other] && lastEventTime[other] <= time {
            if best.map({ lastEventTime[other] > lastEventTime[$0] }) ?? true { best = other }
        }
        return best
    }

    /// End of the last image of `pid` (nil: still running at the trace's end).
    private func endOfPid(_ pid: Int32) -> UInt64? {
        (processesOfPid[pid] ?? []).compactMap { tables.processes[$0].endNanoseconds }.max()
    }

    /// The time from a fork, spawn or exec to the new image's first record
    /// (the kernel's and the loader's work, and on a busy machine the wait for
    /// a CPU): kept as foreign time at the start of the new image.
    private mutating func startGap(_ t: Int, from: UInt64, to: UInt64) {
        // The thread's state machine runs from its first record (a perf switch
        // can come before the runtime's start record): the gap ends there.
        let first = min(to, firstEventTime[t])
        if first > from, threads[t].ops.isEmpty { append(t, .foreign(first - from)) }
    }

    // MARK: foreign load

    private mutating func sweep(to time: UInt64) {
        if time > sweptTo {
            if onCPUCount < cores { foreignIntegral += time - sweptTo }
            sweptTo = time
        }
    }

    private mutating func scheduling(_ t: Int, _ kind: EventKind, at time: UInt64) {
        sweep(to: time)
        switch kind {
        case .cpuIn:
            if let since = runnableSince[t], !ended[t] {
                pendingForeign[t] = pendingForeign[t].adding(saturating: foreignIntegral - since)
                runnableSince[t] = nil
                // Keep the lost time where it happened, between the work
                // before and after it: at the end of the work it would not
                // overlap with the other threads' work as it did.
                if pendingForeign[t] >= Self.foreignSplit {
                    machines[t].advance(to: time)
                    flush(t)
                }
            }
            // A thread's last switches come after its end record: not counted.
            if !counted[t] && !ended[t] { counted[t] = true; onCPUCount += 1 }
        case let .cpuOut(_, preempted):
            if counted[t] { counted[t] = false; onCPUCount -= 1 }
            runnableSince[t] = preempted ? foreignIntegral : nil
        case .threadEnd, .processExit, .exec:
            if counted[t] { counted[t] = false; onCPUCount -= 1 }
            runnableSince[t] = nil
            ended[t] = true
        default:
            break
        }
    }

    // MARK: events

    mutating func consume(_ event: TraceEvent) {
        let t = event.thread
        guard operationCount <= operationLimit, threads.indices.contains(t) else { return }
        if let lock = Self.lockOf(event.kind), let one = sameFileLock[lock] { return consume(Self.event(event, lock: one)) }
        let gils = gilLockSet
        if !begun[t] {
            begun[t] = true
            firstEventTime[t] = event.time
            machines[t].advance(to: min(event.time, tables.threads[t].startNanoseconds))
            // A thread starts on a CPU (until its first switch record says otherwise).
            if perf {
                sweep(to: event.time)
                counted[t] = true
                onCPUCount += 1
            }
        }
        if perf { scheduling(t, event.kind, at: event.time) }
        // Dependencies that start a thread: its creator's progress, or its parent's fork.
        if case let .threadStart(creator) = event.kind, let creator, threads.indices.contains(creator) {
            threads[t].startAfter = (creator, threads[creator].ops.count)
            barrier[creator] = threads[creator].ops.count
        }
        if case .processStart = event.kind, threads[t].startAfter == nil {
            let pid = tables.processes[tables.threads[t].process].pid
            if let point = execPoint.removeValue(forKey: pid) {
                threads[t].startAfter = (point.thread, point.ops)
                startGap(t, from: point.time, to: event.time)
            } else if let point = forkPoint[pid] {
                threads[t].startAfter = (point.thread, point.ops)
                startGap(t, from: point.time, to: event.time)
            } else if let parent = tables.processes[tables.threads[t].process].parent, threadsOfProcess.indices.contains(parent),
                      let spawner = threadsOfProcess[parent].filter({ begun[$0] && lastEventTime[$0] <= event.time })
                          .max(by: { lastEventTime[$0] < lastEventTime[$1] }) {
                // vfork or posix_spawn leave no fork record: the child starts
                // where its parent's (most recently active) thread was then.
                // As of the child's first record (perf sees it before the
                // runtime does): the parent's wait in vfork after that is the
                // child's own time, already in the child's operations.
                let at = min(event.time, firstEventTime[t])
                machines[spawner].advance(to: at)
                flush(spawner)
                let p = point(spawner, at: at)
                threads[t].startAfter = (p.thread, p.ops)
                if blockCategory[spawner] != nil { startGap(t, from: blockBegan[spawner], to: event.time) }
            }
        }
        switch event.kind {
        case .lockAcquire, .lockAcquired, .lockRelease, .lockWait, .lockTryFailed, .blockBegin, .blockEnd, .conditionWait, .conditionWoke,
             .fork, .exec, .threadEnd, .processExit, .waker, .futexWoke, .futexWake:
            machines[t].advance(to: event.time)
            flush(t)
        default:
            break
        }
        if let lock = Self.lockOf(event.kind), semaphoreLocks.contains(lock) {
            semaphore(t, event.kind, at: event.time)
        } else {
            mutexOrOther(t, event, gils: gils)
        }
        _ = machines[t].apply(event.kind, at: event.time, isGIL: { gils.contains($0) })
        // Lock and GIL waits, and runnable time, are recreated by the replay: not kept.
        lastTimes[t].lockWaitNanoseconds = machines[t].times.lockWaitNanoseconds
        lastTimes[t].runnableNanoseconds = machines[t].times.runnableNanoseconds
        lastEventTime[t] = event.time
    }

    /// A Python lock's event. A post (sem_post) is a point others may wait
    /// for; a thread that had to wait for the lock waits for the latest post
    /// by another thread it has not taken yet, whether the lock is used as a
    /// mutex or as a signal (Event, Condition, join). Taking a free lock
    /// (sem_trywait, with the GIL held) is no wait: tying it to the post would
    /// make a thread wait for another while holding the GIL, a deadlock the
    /// recording never had. A wait that timed out or was interrupted is a delay.
    /// Each take and post is also a token operation (`take`, `post`), which only a
    /// scenario without the GIL replays: there a free take waits for a token, so
    /// a `with lock:` around CPU work, which the GIL kept from ever being
    /// contended, still lets one thread at a time through.
    private mutating func semaphore(_ t: Int, _ kind: EventKind, at time: UInt64) {
        switch kind {
        case let .lockAcquire(lock, _):
            if let post = lastRelease[lock] { takenPost[ObjectKey(thread: t, object: UInt64(lock))] = Taken(post) }
            timerWaits.took(t, lock: lock, op: threads[t].ops.count, release: lastRelease[lock])
            takeToken(t, lock, at: time)
        case let .lockAcquired(lock, _):
            let key = ObjectKey(thread: t, object: UInt64(lock))
            if let post = lastRelease[lock], post.thread != t, takenPost[key] != Taken(post), post.time <= time {
                takenPost[key] = Taken(post)
                var from = post
                from.time = max(post.time, lockWaitBegan[t])
                timerWaits.signalled(t, condition: TimerWaits.pythonLocks, op: threads[t].ops.count)
                wait(t, for: from, until: time, lock: lock)
                // Replayed here, not again at the end of its sem_wait call. A wait with no
                // post in this process (a multiprocessing semaphore posted by another
                // process) is left to the call's end, which finds its waker by time.
                if blockCategory[t] != nil { semaphoreWaitReplayed[t] = true }
            }
            takeToken(t, lock, at: time)
        case .lockWait:
            lockWaitBegan[t] = time
        case let .lockFailed(_, _, error):
            if time > lockWaitBegan[t] {
                append(t, .delay(time - lockWaitBegan[t]))
                if error == 110 {  // ETIMEDOUT
                    timerWaits.timedOut(t, condition: TimerWaits.pythonLocks, op: threads[t].ops.count - 1, began: lockWaitBegan[t])
                }
            }
            if blockCategory[t] != nil { semaphoreWaitReplayed[t] = true }
        case let .lockRelease(lock, _):
            postToken(t, lock, at: time)
            lastRelease[lock] = point(t, at: time)
        default:
            break
        }
    }

    /// A lock whose first this many holds averaged under `tokenHoldMinimum` keeps no
    /// tokens (`keepTokens`), and gets no more token operations: a `queue.Queue`'s mutex,
    /// held a microsecond at a time, doubled the memory of a dense trace's report (49 →
    /// 99 MB) for tokens dropped at the end.
    static let tokenHoldsJudged = 64
    static let tokenHoldMinimum: UInt64 = 10_000

    private mutating func takeToken(_ t: Int, _ lock: Int, at time: UInt64) {
        if let use = tokenUse[lock], !use.mutex { return }
        append(t, .take(lock: lock))
        var use = tokenUse[lock] ?? (0, -1, 0, 0, 0, true)
        use.ops += 1
        if use.holder >= 0 { use.mutex = false }  // taken again before its post
        (use.holder, use.since) = (t, time)
        tokenUse[lock] = use
    }

    private mutating func postToken(_ t: Int, _ lock: Int, at time: UInt64) {
        if let use = tokenUse[lock], !use.mutex { return }
        append(t, .post(lock: lock))
        var use = tokenUse[lock] ?? (0, -1, 0, 0, 0, true)
        use.ops += 1
        if use.holder == t, time >= use.since {
            use.holds += 1
            use.held = use.held.adding(saturating: time - use.since)
            // A hold of nearly the thread's whole life is a `_tstate_lock`'s (the thread's
            // end, which `join` waits for): one of the locks an address may stand for.
            let info = tables.threads[t]
            if let end = info.endNanoseconds, end > info.startNanoseconds,
               time - use.since >= (end - info.startNanoseconds) - (end - info.startNanoseconds) / 10 { use.mutex = false }
            if use.holds == Self.tokenHoldsJudged, use.held / UInt64(use.holds) < Self.tokenHoldMinimum { use.mutex = false }
            var holders = tokenHolders[lock] ?? ([], [])
            if !holders.once.insert(t).inserted { holders.twice.insert(t) }
            tokenHolders[lock] = holders
        } else {
            use.mutex = false  // posted by another thread, or not taken
        }
        use.holder = -1
        tokenUse[lock] = use
    }

    /// Keeps the token operations of the Python locks whose holds could keep threads
    /// apart without the GIL: used as mutexes only (each take by a thread when no other
    /// held it, each post by the thread that took it), held for at least 1% of the run
    /// and not a few microseconds at a time (`tokenHoldMinimum`),
    /// by at least two threads twice each, longest held first, within the operation
    /// limit. A lock used as a signal (a Condition's waiter lock, taken twice by its
    /// waiter and posted by the notifier) is replayed by its waits alone. So are most
    /// addresses that several locks used one after another, which the trace cannot tell
    /// apart (it does not say when one was freed and the next made): a `Thread`'s
    /// `_tstate_lock`, held by each thread once for its whole life, and a lock per
    /// connection or per task, taken by one thread. (A server's 100 request threads,
    /// whose `_tstate_lock`s shared a few addresses, were replayed as taking turns on
    /// them, and 96 of them never ended.) The others' token operations are dropped (a
    /// `queue.Queue`'s mutex, taken 400 000 times for a microsecond each, would double a
    /// dense trace's operations), and the operations around them merged as they would
    /// have been without them.
    private mutating func keepTokens(span: UInt64) {
        var budget = max(0, tokenLimit - operationCount)
        var kept = Set<Int>()
        let candidates = tokenUse.filter {
            $0.value.mutex && (tokenHolders[$0.key]?.twice.count ?? 0) >= 2 && $0.value.held >= span / 100
        }
        // Each token operation kept adds itself and may keep two neighbours apart.
        for (lock, use) in candidates.sorted(by: { ($0.value.held, $1.key) > ($1.value.held, $0.key) }) where 2 * use.ops <= budget {
            kept.insert(lock)
            budget -= 2 * use.ops
        }
        tokenLocks = kept.sorted()
        guard tokenOps > 0 else { return }
        var indexMaps: [Int: [Int]] = [:]
        for t in threads.indices where threads[t].ops.contains(where: \.isToken) {
            let ops = threads[t].ops
            var merges = mergesAcrossTokens[t][...]
            var out: [ReplayProgram.Op] = []
            out.reserveCapacity(ops.count)
            var map = Array(repeating: 0, count: ops.count + 1)
            for (k, op) in ops.enumerated() {
                map[k] = out.count
                if case let .take(lock) = op, !kept.contains(lock) { continue }
                if case let .post(lock) = op, !kept.contains(lock) { continue }
                while let m = merges.first, m < k { merges.removeFirst() }
                if merges.first == k {
                    if let last = out.last, let merged = Self.merged(last, op) {
                        out[out.count - 1] = merged
                        continue
                    }
                    operationCount += 1
                    if case .compute = op { threads[t].continuesAcrossTokens.insert(out.count) }
                }
                if op.isToken { operationCount += 1 }
                out.append(op)
            }
            map[ops.count] = out.count
            threads[t].ops = out
            indexMaps[t] = map
        }
        // Points are operation counts: moved with the operations.
        func moved(_ thread: Int, _ ops: Int) -> Int {
            guard let map = indexMaps[thread] else { return ops }
            return map[min(ops, map.count - 1)]
        }
        for t in threads.indices {
            if let after = threads[t].startAfter { threads[t].startAfter = (after.thread, moved(after.thread, after.ops)) }
            for i in threads[t].ops.indices {
                if case let .waitFor(thread, ops, lock) = threads[t].ops[i] {
                    threads[t].ops[i] = .waitFor(thread: thread, ops: moved(thread, ops), lock: lock)
                }
            }
        }
    }

    /// A thread that polled `lock` (LockIntervalTracker's polling wait) takes it: the
    /// delays since its first failed try were part of its wait for it.
    private mutating func endPoll(_ t: Int, lock: Int, at time: UInt64) {
        guard let p = polls[t], p.lock == lock else { return }
        polls[t] = nil
        guard time &- p.last <= LockIntervalTracker.pollGapNanoseconds else { return }
        for i in p.ops..<threads[t].ops.count {
            if case let .delay(ns) = threads[t].ops[i] { threads[t].ops[i] = .pollDelay(ns, lock: lock) }
        }
    }

    /// `event` with its lock replaced by `lock`.
    private static func event(_ event: TraceEvent, lock: Int) -> TraceEvent {
        var e = event
        switch event.kind {
        case let .lockAcquire(_, flags): e.kind = .lockAcquire(lock: lock, flags: flags)
        case let .lockAcquired(_, flags): e.kind = .lockAcquired(lock: lock, flags: flags)
        case let .lockWait(_, flags): e.kind = .lockWait(lock: lock, flags: flags)
        case let .lockRelease(_, flags): e.kind = .lockRelease(lock: lock, flags: flags)
        case let .lockFailed(_, flags, error): e.kind = .lockFailed(lock: lock, flags: flags, error: error)
        case let .lockTryFailed(_, flags): e.kind = .lockTryFailed(lock: lock, flags: flags)
        default: break
        }
        return e
    }

    private static func lockOf(_ kind: EventKind) -> Int? {
        switch kind {
        case let .lockAcquire(lock, _), let .lockAcquired(lock, _), let .lockWait(lock, _), let .lockRelease(lock, _):
            return lock
        case let .lockFailed(lock, _, _), let .lockTryFailed(lock, _):
            return lock
        default:
            return nil
        }
    }

    private mutating func mutexOrOther(_ t: Int, _ event: TraceEvent, gils: LockSet) {
        switch event.kind {
        case let .lockAcquire(lock, flags):
            endPoll(t, lock: lock, at: event.time)
            if !gils.contains(lock) { timerWaits.took(t, lock: lock, op: threads[t].ops.count, release: lastRelease[lock]) }
            append(t, flags.contains(.shared) ? .acquireShared(lock: lock) : .acquire(lock: lock))
        case let .lockTryFailed(lock, _):
            if let p = polls[t], p.lock == lock, event.time &- p.last <= LockIntervalTracker.pollGapNanoseconds {
                polls[t]?.last = event.time
            } else {
                polls[t] = (lock, threads[t].ops.count, event.time)
            }
        case let .lockWait(lock, _):
            if polls[t]?.lock == lock { polls[t] = nil }
            lockWaitBegan[t] = event.time
        case let .lockAcquired(lock, flags):
            if !gils.contains(lock) { timerWaits.took(t, lock: lock, op: threads[t].ops.count, release: lastRelease[lock]) }
            append(t, flags.contains(.shared) ? .acquireShared(lock: lock) : .acquire(lock: lock))
            // The hand-off latency: from the release that let it go to now.
            if let release = lastRelease[lock], release.thread != t, release.time >= lockWaitBegan[t], event.time > release.time {
                wokeUp(t, after: event.time - release.time)
            }
        case let .lockRelease(lock, _):
            if polls[t]?.lock == lock { polls[t] = nil }  // it held what it tried
            append(t, .release(lock: lock))
            lastRelease[lock] = (t, threads[t].ops.count, event.time)
        case let .fork(childPid):
            forkPoint[childPid] = point(t, at: event.time)
        case .exec:
            // The image is replaced: the next image of the pid starts here.
            let pid = tables.processes[tables.threads[t].process].pid
            execPoint[pid] = point(t, at: event.time)
        case let .waker(kind, object, _):
            waker(t, kind, object, at: event.time)
        case let .blockBegin(call, small, argument):
            blockCategory[t] = call.category(smallArgument: small)
            blockBegan[t] = event.time
            blockSmall[t] = small
            blockArgument[t] = argument
            if !call.isDataTransfer { ioWaitObject[t] = nil; readyObjects[t] = [] }
        case let .blockEnd(call, result, _):
            blockEnded(t, call, result, at: event.time)
            lastEventTime[t] = event.time
            return
        case let .futexWake(lock, _):
            lastFutexWake[lock] = point(t, at: event.time)
        case let .futexWoke(lock, result):
            futexWoke(t, lock: lock, result: result, at: event.time)
        case .conditionWait:
            conditionWaitBegan[t] = event.time
        case let .conditionWoke(condition, mutex, result):
            if let signal = lastSignal[condition], signal.thread != t, signal.time >= conditionWaitBegan[t] {
                // The wait ends at the signal, or at the signaller's release of the
                // mutex when it still held it, and the latency counts from there. It
                // waited for that release point before (the latency from the release,
                // replayed from the signal): two C threads handing a condition back and
                // forth, whose signal takes 6 µs before the release, replayed 33% short.
                var from = signal
                if let release = lastRelease[mutex], release.thread == signal.thread, release.time >= signal.time { from = release }
                append(t, .waitFor(thread: from.thread, ops: from.ops))
                timerWaits.signalled(t, condition: condition, op: threads[t].ops.count - 1)
                if event.time > from.time { wokeUp(t, after: event.time - from.time) }
            } else if result == 110 {  // ETIMEDOUT: the timeout, not another thread, ended it
                append(t, .delay(event.time - conditionWaitBegan[t]))
                timerWaits.timedOut(t, condition: condition, op: threads[t].ops.count - 1, began: conditionWaitBegan[t])
            } else if let w = guessedWaker(of: t, at: event.time) {
                append(t, .waitFor(thread: w, ops: threads[w].ops.count))
                note(t, "condition wait (waker guessed by time)", end: event.time, event.time - conditionWaitBegan[t], guessed: true)
            }
        default:
            break
        }
    }

    /// A futex wait returned: woken, it waited for the latest wake call on the
    /// word by another thread (a hand-off); a timeout is a delay; EAGAIN and
    /// EINTR returned at once or were cut short, and other outcomes have no waker.
    private mutating func futexWoke(_ t: Int, lock: Int, result: Int32, at time: UInt64) {
        let began = lockWaitBegan[t]
        let ns = time > began ? time - began : 0
        // A CPython 3.14+ PyMutex wait (pymutex.c) sits inside its sem wait's
        // blocking call: once replayed here, not again at the call's end.
        let inCall = blockCategory[t] != nil
        // (A Python timer's PyMutex waits are on a new waiter lock each time: one condition.)
        let timerCondition = pyMutexWords.contains(lock) ? TimerWaits.pythonLocks : lock
        if result == 0, let wake = lastFutexWake[lock], wake.thread != t, wake.time + 1_000 >= began {
            timerWaits.signalled(t, condition: timerCondition, op: threads[t].ops.count)
            wait(t, for: wake, until: time, lock: lock)
            if inCall { semaphoreWaitReplayed[t] = true }
        } else if result == -110 || result == -4 {  // ETIMEDOUT, EINTR: the clock or a signal ended it
            if ns > 0 {
                append(t, .delay(ns))
                if result == -110 { timerWaits.timedOut(t, condition: timerCondition, op: threads[t].ops.count - 1, began: began) }
            }
            if inCall { semaphoreWaitReplayed[t] = true }
        } else if result == 0, ns > 0, !inCall {
            append(t, .delay(ns))
            note(t, "futex wait (no wake call seen)", end: time, ns)
        }
    }

    private mutating func waker(_ t: Int, _ kind: WakerKind, _ object: UInt64, at time: UInt64) {
        switch kind {
        case .ioWrite:
            lastWrite[object] = point(t, at: time)
        case .ioWait:
            ioWaitObject[t] = object
        case .ioRead:
            lastRead[object] = point(t, at: time)
            // Data read without waiting came from a write the replay keeps before it.
            if let write = lastWrite[object], write.thread != t, write.time <= time,
               consumed[ObjectKey(thread: t, object: object)] != Taken(write) {
                consumed[ObjectKey(thread: t, object: object)] = Taken(write)
                append(t, .waitFor(thread: write.thread, ops: write.ops))
            }
        case .ioReady:
            readyObjects[t].append(object)
        case .condSignal, .condBroadcast:
            lastSignal[Int(truncatingIfNeeded: object)] = point(t, at: time)
        case .kill:
            kills[Int32(truncatingIfNeeded: object)] = point(t, at: time)
        case .semPost:
            lastPost[Semaphore(process: tables.threads[t].process, address: object)] = point(t, at: time)
        case .reaped:
            reaped(t, pid: Int32(truncatingIfNeeded: object), at: time)
        default:
            break
        }
    }

    /// A WNOHANG wait reaped `pid`: the blocking call before it (pselect,
    /// poll, a sleep) that ended once the child had ended waited for that child.
    private mutating func reaped(_ t: Int, pid: Int32, at time: UInt64) {
        guard processesOfPid[pid] != nil, let end = endOfPid(pid) else { return }
        if let block = lastBlockDelay[t], end <= block.end, end + 1_000 >= block.begin,
           threads[t].ops.indices.contains(block.index), case let .delay(ns) = threads[t].ops[block.index] {
            threads[t].ops[block.index] = .waitChild(pid: pid)
            childTied.insert(pid)
            lastBlockDelay[t] = nil
            unexplainedTotal -= min(unexplainedTotal, ns)
            keptTotal -= min(keptTotal, ns)
            unexplained.removeAll { $0.thread == t && $0.startNanoseconds >= block.begin && $0.startNanoseconds <= block.end }
            // The wake-up latency (SIGCHLD, the return from the call) goes in
            // the placeholder after it.
            if block.end > end, threads[t].ops.indices.contains(block.index + 1), case .foreign(0) = threads[t].ops[block.index + 1] {
                threads[t].ops[block.index + 1] = .foreign(block.end - max(end, block.begin))
            }
        } else {
            append(t, .waitChild(pid: pid))
        }
    }

    private mutating func blockEnded(_ t: Int, _ call: BlockingCall, _ result: Int32, at time: UInt64) {
        let gils = gilLockSet
        let category = blockCategory[t]
        blockCategory[t] = nil
        let began = blockBegan[t]
        let before = lastTimes[t]
        _ = machines[t].apply(.blockEnd(call: call, result: result, detail: 0), at: time, isGIL: { gils.contains($0) })
        let now = machines[t].times
        lastTimes[t] = now
        // Work done inside the call (on a CPU before it slept) stays work.
        let inside = (now.runningNanoseconds - before.runningNanoseconds) + (now.runningWithGILNanoseconds - before.runningWithGILNanoseconds)
        if inside > 0 { append(t, .compute(inside)) }
        let blocked = (now.sleepingNanoseconds - before.sleepingNanoseconds) + (now.ioNanoseconds - before.ioNanoseconds)
            + (now.childWaitNanoseconds - before.childWaitNanoseconds) + (now.otherOffCPUNanoseconds - before.otherOffCPUNanoseconds)
            + (now.lockWaitNanoseconds - before.lockWaitNanoseconds)
        lastTimes[t].lockWaitNanoseconds = now.lockWaitNanoseconds
        let label = call.label(smallArgument: blockSmall[t], argument: UInt64.max)
        let objects = (ioWaitObject[t].map { [$0] } ?? []) + readyObjects[t]
        ioWaitObject[t] = nil
        readyObjects[t] = []
        switch category {
        case .child where call.isWaitForChild && result > 0 && processesOfPid[result] != nil:
            append(t, .waitChild(pid: result))
            childTied.insert(result)
            // The wake-up latency counts from the child's end, or from the
            // call's start when the child had ended before.
            if let end = endOfPid(result), time > max(end, began) { wokeUp(t, after: time - max(end, began)) }
            return
        case .sync:
            if semaphoreWaitReplayed[t] {
                semaphoreWaitReplayed[t] = false
                return
            }
            if call.isJoin,
               let joined = (threadOfTid[Int32(bitPattern: blockSmall[t])] ?? []).last(where: { tables.threads[$0].process == tables.threads[t].process && $0 != t }) {
                append(t, .waitFor(thread: joined, ops: Int.max))
                if let end = tables.threads[joined].endNanoseconds, time > max(end, began) { wokeUp(t, after: time - max(end, began)) }
                return
            }
            // A sem_wait that blocked and got the semaphore: woken by the latest post since it began.
            if !call.isJoin, result == 0,
               let post = lastPost[Semaphore(process: tables.threads[t].process, address: blockArgument[t])],
               post.thread != t, post.time + 1_000 >= began, post.time <= time {
                wait(t, for: post, until: time)
                return
            }
            if let w = guessedWaker(of: t, at: time) {
                append(t, .waitFor(thread: w, ops: threads[w].ops.count))
                // The call's whole length: with perf, its thread states were settled at
                // the switch records inside it, and `blocked` holds only the last piece.
                note(t, "\(label) (waker guessed by time)", end: time, max(blocked, time > began ? time - began : 0), guessed: true)
                return
            }
        case .sleep:
            if objects.isEmpty, blocked > 0 {
                keepBlock(t, blocked, began: began, end: time, reapable: true)
                return
            }
        default:
            break
        }
        // A read that blocked and got data is a read of its objects too.
        if call.isRead, result > 0 { for object in objects { lastRead[object] = point(t, at: time) } }
        // A write that blocked (a full pipe): the last read that made room before it
        // returned. Kept as a fixed delay, it made more cores useless in the replay
        // of a parent that feeds 4 `gzip` children: "816 ms on 4 cores" for a run
        // that 4 cores would halve.
        if call.isDataTransfer, !call.isRead, blocked > 0 {
            let reads = objects.compactMap { lastRead[$0] }.filter { $0.thread != t && $0.time >= began && $0.time <= time }
            if let read = reads.max(by: { $0.time < $1.time }) {
                wait(t, for: read, until: time)
                return
            }
        }
        // I/O and select/poll: the write that made the object readable.
        let writes = objects.compactMap { lastWrite[$0] }.filter { $0.thread != t && $0.time + 50_000 >= began && $0.time <= time }
        if let write = writes.min(by: { $0.time < $1.time }) {
            for object in objects { consumed[ObjectKey(thread: t, object: object)] = lastWrite[object].map(Taken.init) }
            var from = write
            from.time = max(write.time, began)
            wait(t, for: from, until: time)
            return
        }
        // A read that blocked until end-of-file: the last writer closed its end
        // or exited (a pipe's reader at its writer's exit; multiprocessing's
        // resource tracker when its parent closes the pipe). Closes are not
        // recorded: the waker is guessed by time, as for a semaphore without a post.
        if call.isRead, result == 0, !objects.isEmpty, blocked > 0, let w = guessedWaker(of: t, at: time) {
            append(t, .waitFor(thread: w, ops: threads[w].ops.count))
            note(t, "\(label) until end-of-file (waker guessed by time)", end: time, max(blocked, time > began ? time - began : 0), guessed: true)
            return
        }
        if blocked > 0 {
            keepBlock(t, blocked, began: began, end: time, reapable: call.isMultiplex)
            note(t, label, end: time, blocked)
        }
    }

    /// A blocking call kept as a fixed delay, on its own (a WNOHANG reap may
    /// turn it into a wait for a child).
    private mutating func keepBlock(_ t: Int, _ ns: UInt64, began: UInt64, end: UInt64, reapable: Bool) {
        barrier[t] = threads[t].ops.count
        append(t, .delay(ns))
        barrier[t] = threads[t].ops.count
        guard reapable else { return }
        lastBlockDelay[t] = (threads[t].ops.count - 1, began, end)
        // A placeholder for the wake-up latency, should it become a wait for a child.
        append(t, .foreign(0))
        barrier[t] = threads[t].ops.count
    }

    /// The GILs `ops` end holding (an acquisition not released after it), once per hold.
    static func heldGILs(_ ops: [ReplayProgram.Op], gils: Set<Int>) -> [Int] {
        var depth: [Int: Int] = [:]
        for op in ops {
            switch op {
            case let .acquire(lock) where gils.contains(lock): depth[lock, default: 0] += 1
            case let .release(lock) where gils.contains(lock): depth[lock] = max(0, (depth[lock] ?? 0) - 1)
            default: break
            }
        }
        return depth.keys.sorted().flatMap { Array(repeating: $0, count: depth[$0] ?? 0) }
    }

    /// Closes every thread at its end.
    mutating func finish(traceEnd: UInt64) -> ReplayProgram {
        for t in threads.indices {
            let info = tables.threads[t]
            let processEnd = tables.processes.indices.contains(info.process) ? tables.processes[info.process].endNanoseconds : nil
            let end = max(info.endNanoseconds ?? processEnd ?? traceEnd, lastEventTime[t])
            if !begun[t] { machines[t].advance(to: info.startNanoseconds) }
            machines[t].finish(at: end)
            flush(t)
        }
        // A timer thread stops when its stop signal comes (TimerWaits).
        if operationCount <= operationLimit { timerWaits.shorten(&threads) }
        // A thread still running when another ended the process ends with it: its last
        // wait (a daemon's, a JVM service thread's timed wait) never ends by itself.
        for p in threadsOfProcess.indices {
            let enders = threadsOfProcess[p].filter { tables.threads[$0].endKind == .processEnded }
            guard enders.count == 1, let ender = enders.first else { continue }
            for t in threadsOfProcess[p] where t != ender && tables.threads[t].endKind == .unknown { threads[t].killedAtExitOf = ender }
        }
        // A child killed by its parent ends when the parent reached the kill.
        for (pid, kill) in kills {
            for p in processesOfPid[pid] ?? [] where tables.processes[p].exitKind == .signal {
                guard let end = tables.processes[p].endNanoseconds, kill.time <= end else { continue }
                for t in threadsOfProcess[p] {
                    // (Token operations after it run after the wait: they take no time.)
                    guard let lastIndex = threads[t].ops.lastIndex(where: { !$0.isToken }) else { continue }
                    // A GIL it held when the signal came goes with the process: as one GIL of
                    // threads, waiting for the kill holding it would stop the killer
                    // (a pool's worker ending as `Pool.terminate()` killed it).
                    let releases = Self.heldGILs(threads[t].ops, gils: gilLocks).map { ReplayProgram.Op.release(lock: $0) }
                    switch threads[t].ops[lastIndex] {
                    case .delay, .foreign:
                        threads[t].ops.replaceSubrange(lastIndex...lastIndex, with: releases + [.waitFor(thread: kill.thread, ops: kill.ops)])
                    default:
                        threads[t].ops.append(contentsOf: releases + [.waitFor(thread: kill.thread, ops: kill.ops)])
                    }
                }
            }
        }
        unexplained.sort { ($0.nanoseconds, $1.startNanoseconds) > ($1.nanoseconds, $0.startNanoseconds) }
        let start = tables.processes.map(\.startNanoseconds).min() ?? 0
        if operationCount <= operationLimit { keepTokens(span: traceEnd > start ? traceEnd - start : 0) }
        return ReplayProgram(threads: threads, gilLocks: gilLocks, recordedWallNanoseconds: traceEnd > start ? traceEnd - start : 0,
                             startNanoseconds: start, pidOfProcess: tables.processes.map(\.pid), measuredOnCPU: perf,
                             operationCount: operationCount, overLimit: operationCount > operationLimit,
                             unexplainedWaits: Array(unexplained.prefix(10)), unexplainedNanoseconds: unexplainedTotal, keptNanoseconds: keptTotal,
                             wakeUps: wakeUps, wakeUpNanoseconds: wakeUpNanoseconds,
                             initialTokens: Dictionary(uniqueKeysWithValues: tokenLocks.map { ($0, 1) }),
                             tokensWithGIL: Set(tokenLocks.filter { tables.locks.indices.contains($0) && tables.locks[$0].kind == .semaphore }),
                             unseenChildWaits: zip(childTiedNanoseconds, childTiedStretches).map { UnseenChildWait(nanoseconds: $0, stretches: $1) })
    }
}
