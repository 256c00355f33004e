import GtraceFormat

/// A what-if question for the replay.
public struct ReplayScenario: Sendable, Codable, Equatable {
    public var name: String
    /// CPUs available; nil: as many as there are threads.
    public var cores: Int?
    /// Every GIL acquisition succeeds at once, as if each thread were a process.
    public var removeGIL = false
    /// This lock's acquisitions succeed at once.
    public var removedLock: Int?
    /// Every process's GIL is one lock, as if the tree's Python processes
    /// were threads of one process (the other way round from `removeGIL`).
    public var shareGIL = false
    /// Replays the time the machine took from the program (other programs'
    /// load, wake-up latencies) as it was recorded: the self-replay. Off, the
    /// replay predicts an idle machine.
    public var foreignLoad: Bool

    public init(name: String, cores: Int?, removeGIL: Bool = false, shareGIL: Bool = false, removedLock: Int? = nil,
                foreignLoad: Bool = false) {
        self.name = name
        self.cores = cores
        self.removeGIL = removeGIL
        self.shareGIL = shareGIL
        self.removedLock = removedLock
        self.foreignLoad = foreignLoad
    }
}

/// Replays a `ReplayProgram` as a discrete-event simulation (docs/METRICS.md,
/// "Replay"): threads run their CPU work on `cores` CPUs, round robin with a
/// 1 ms slice; delays take their recorded time; a lock is held by one thread
/// at a time and handed to its waiters in FIFO order (a rwlock's read lock by
/// any number of readers while no writer holds it: readers go first, as in
/// glibc's default, and a writer's release lets in every reader waiting); a thread waits for the
/// thread or child process it depended on in the recording.
struct ReplaySimulator {
    enum Status { case notStarted, active, ready, running, delaying, blockedOnLock, waiting, done }

    struct SimThread {
        var pc = 0
        var status = Status.notStarted
        var remaining: UInt64 = 0
        var sliceLeft: UInt64 = 0
        var wakeAt: UInt64 = 0
        var finish: UInt64 = 0
    }

    /// A moment a thread stopped waiting for another thread, and which one let it go.
    typealias Unblock = (time: UInt64, cause: Int, lock: Int?)

    static let sliceNanoseconds: UInt64 = 1_000_000
    /// While threads wait for a CPU, the slice grows to 1/1000 of the shortest
    /// remaining work among them: the same shares of the CPUs, with steps bounded
    /// by the logarithm of the work instead of its length (a hostile trace's 2^62 ns
    /// of work took 13.6 M steps, ~20 s of a debug build, per scenario). The first
    /// of them to finish moves by at most one round of slices, 0.1% of its work per
    /// thread waiting.
    static let sliceShare: UInt64 = 1000
    /// Each step visits every thread: a trace with thousands of threads that all
    /// take turns stops here rather than run for minutes.
    static let workLimit = 150_000_000

    let program: ReplayProgram
    let scenario: ReplayScenario
    // The program's parts in flat arrays: no struct copies in the hot loop.
    private let opsOf: [[ReplayProgram.Op]]
    private let startAfterOf: [(thread: Int, ops: Int)?]
    private let continuesAcrossTokensOf: [Set<Int>]
    /// Per thread, the threads its end ends (`killedAtExitOf`).
    private let killedAtExitBy: [[Int]]
    private let startOf: [UInt64]
    private var threads: [SimThread]
    /// Per thread, its unblocks in time order, for the critical path: kept only in the
    /// scenario with unlimited cores, the one that computes it (apart from `threads`, whose
    /// elements then hold no reference and are read and written in place).
    private var unblocks: [[Unblock]]
    private let tracksCriticalPath: Bool
    /// Per lock id: its holder (-1: free) and its waiters in arrival order.
    private var owner: [Int]
    /// Acquisitions of a lock by its owner beyond the first (a recursive
    /// mutex, a read lock taken twice): its releases but the last keep it.
    private var reentries: [Int]
    private var lockWaiters: [WaiterQueue]
    /// Per lock id: its read holds (a rwlock's), counting a thread's repeated ones.
    private var readers: [Int]
    /// Per thread: the locks it holds for reading, once per hold.
    private var readHolds: [[Int]]
    /// Per lock id: a Python lock's or a binary semaphore's tokens (`take`, `post`); nil
    /// when this scenario replays none (it keeps the GIL, and no binary semaphore's
    /// tokens were kept): then those locks are replayed as signals only.
    private var tokens: [Int]?
    /// Per lock id: whether this scenario replays its tokens (`program.tokensWithGIL`
    /// only, where the scenario keeps the GIL).
    private var replaysTokens: [Bool] = []
    private let skipped: [Bool]
    /// The lock id each recorded lock is replayed as: itself, or the one shared GIL.
    private let replayedLock: [Int]
    private var readyQueue: [Int] = []
    private var readyHead = 0
    private var running: [Int] = []
    private var time: UInt64 = 0
    private var threadsOfPid: [Int32: [Int]] = [:]
    /// Threads not started yet wait here rather than in run()'s `live`, which every step
    /// scans: a server's thread per request (100 requests, 51 k events) made each step
    /// visit every request's thread, and the report took 0.6 s, 60 s in a debug build.
    /// Those that start at a time, in start order…
    private var timedStarts: [Int] = []
    private var nextTimedStart = 0
    /// …and, per thread, those that start after one of its operations, in operation order…
    private var followers: [[Int]] = []
    /// …of which this many are still waiting.
    private var followersWaiting = 0
    /// Threads with followers whose pc or status changed since those were last checked.
    private var moved: [Int] = []
    /// Per thread in `.waiting`: what it waits for. The zero-time scan passes over it, not
    /// running its operations, while that cannot have come: most of a replay's work was
    /// threads waiting for another (a join) or for a child process (a shell waiting for
    /// its pipeline: a hash of the pid each time), checked at every pass of every step.
    private enum Awaited {
        /// `waitFor`: that thread reaching that many operations.
        case thread(Int, ops: Int)
        /// `waitChild`, found not done when `ended` was this: a child can be done only
        /// once one more thread has ended.
        case child(ended: Int)
    }
    private var awaited: [Awaited?] = []
    /// Threads ended so far.
    private var ended = 0

    /// `tokens`: replay Python locks' tokens where the scenario has no GIL (`run()` turns
    /// them off when they leave threads stuck).
    init(program: ReplayProgram, scenario: ReplayScenario, tokens useTokens: Bool = true) {
        self.program = program
        self.scenario = scenario
        opsOf = program.threads.map(\.ops)
        startAfterOf = program.threads.map(\.startAfter)
        continuesAcrossTokensOf = program.threads.map(\.continuesAcrossTokens)
        var killed = Array(repeating: [Int](), count: program.threads.count)
        for t in program.threads.indices {
            if let ender = program.threads[t].killedAtExitOf, killed.indices.contains(ender) { killed[ender].append(t) }
        }
        killedAtExitBy = killed
        startOf = program.threads.map { $0.startNanoseconds > program.startNanoseconds ? $0.startNanoseconds - program.startNanoseconds : 0 }
        var lockCount = 0
        for ops in opsOf {
            for op in ops {
                if case let .acquire(lock) = op { lockCount = max(lockCount, lock + 1) }
                if case let .acquireShared(lock) = op { lockCount = max(lockCount, lock + 1) }
                if case let .release(lock) = op { lockCount = max(lockCount, lock + 1) }
                if case let .waitFor(_, _, lock?) = op { lockCount = max(lockCount, lock + 1) }
                if case let .pollDelay(_, lock) = op { lockCount = max(lockCount, lock + 1) }
                if case let .take(lock) = op { lockCount = max(lockCount, lock + 1) }
                if case let .post(lock) = op { lockCount = max(lockCount, lock + 1) }
            }
        }
        owner = Array(repeating: -1, count: lockCount)
        reentries = Array(repeating: 0, count: lockCount)
        lockWaiters = Array(repeating: WaiterQueue(), count: lockCount)
        readers = Array(repeating: 0, count: lockCount)
        readHolds = Array(repeating: [], count: program.threads.count)
        skipped = (0..<lockCount).map { $0 == scenario.removedLock || (scenario.removeGIL && program.gilLocks.contains($0)) }
        let sharedGIL = program.gilLocks.min()
        replayedLock = (0..<lockCount).map { scenario.shareGIL && program.gilLocks.contains($0) ? sharedGIL ?? $0 : $0 }
        let replayed = scenario.removeGIL ? Set(program.initialTokens.keys) : program.tokensWithGIL
        if useTokens && !replayed.isEmpty {
            var initial = Array(repeating: 0, count: lockCount)
            for (lock, count) in program.initialTokens where initial.indices.contains(lock) { initial[lock] = count }
            tokens = initial
            replaysTokens = (0..<lockCount).map { replayed.contains($0) }
        }
        threads = program.threads.map { _ in SimThread() }
        tracksCriticalPath = scenario.cores == nil
        unblocks = Array(repeating: [], count: tracksCriticalPath ? threads.count : 0)
        for t in program.threads {
            let pid = program.pidOfProcess.indices.contains(t.process) ? program.pidOfProcess[t.process] : -1
            threadsOfPid[pid, default: []].append(t.index)
        }
        followers = Array(repeating: [], count: threads.count)
        awaited = Array(repeating: nil, count: threads.count)
        for t in threads.indices {
            if let after = startAfterOf[t], threads.indices.contains(after.thread) {
                followers[after.thread].append(t)
                followersWaiting += 1
            } else if startAfterOf[t] == nil {
                timedStarts.append(t)
            }
        }
        timedStarts.sort { (startOf[$0], $0) < (startOf[$1], $1) }
        for thread in followers.indices where followers[thread].count > 1 {
            followers[thread].sort { (startAfterOf[$0]?.ops ?? 0, $0) < (startAfterOf[$1]?.ops ?? 0, $1) }
        }
        // A start after an operation already reached (the creator's first) is due at once.
        moved = followers.indices.filter { !followers[$0].isEmpty }
    }

    struct Outcome {
        var wallNanoseconds: UInt64
        /// Threads that never finished (a wait the replay cannot satisfy).
        var stuckThreads: Int
        /// The replay stopped at its work limit: its times mean nothing.
        var gaveUp = false
        var criticalPath: CriticalPath?
    }

    // The non-mutating helpers the step loop calls are inlined: called from a mutating
    // method, one that is not copied the whole simulator first (360 bytes, retaining every
    // array in it, so that the next write to `threads` copied that array too), each step.
    @inline(__always)
    private func skips(_ lock: Int) -> Bool { skipped[lock] }

    @inline(__always)
    private func startTime(_ t: Int) -> UInt64 { startOf[t] }

    @inline(__always)
    private func reached(_ thread: Int, _ ops: Int) -> Bool {
        threads.indices.contains(thread) ? (threads[thread].status == .done || threads[thread].pc >= ops) : true
    }

    private func childDone(_ pid: Int32) -> Bool {
        (threadsOfPid[pid] ?? []).allSatisfy { threads[$0].status == .done }
    }

    /// Runs the zero-time operations of thread `t`; true when it changed.
    private mutating func advance(_ t: Int) -> Bool {
        var changed = false
        if threads[t].status == .notStarted {
            if let after = startAfterOf[t] {
                guard reached(after.thread, after.ops) else { return false }
                noteUnblock(t, cause: after.thread, lock: nil)
            } else if startTime(t) > time {
                return false
            }
            threads[t].status = .active
            changed = true
        }
        while threads[t].status == .active || threads[t].status == .waiting {
            guard threads[t].pc < opsOf[t].count else {
                end(t)
                for k in killedAtExitBy[t] where threads[k].status != .done {
                    noteUnblock(k, cause: t, lock: nil)
                    end(k)
                }
                return true
            }
            switch opsOf[t][threads[t].pc] {
            case let .compute(ns):
                threads[t].pc += ns == 0 ? 1 : 0
                if ns > 0 {
                    threads[t].status = .ready
                    threads[t].remaining = ns
                    readyQueue.append(t)
                    return true
                }
            case let .delay(ns):
                threads[t].status = .delaying
                threads[t].wakeAt = time.adding(saturating: ns)
                return true
            case let .pollDelay(ns, lock):
                guard !skips(replayedLock[lock]) else {  // the lock it polled is gone
                    threads[t].pc += 1
                    continue
                }
                threads[t].status = .delaying
                threads[t].wakeAt = time.adding(saturating: ns)
                return true
            case let .foreign(ns):
                guard scenario.foreignLoad, ns > 0 else {
                    threads[t].pc += 1
                    continue
                }
                threads[t].status = .delaying
                threads[t].wakeAt = time.adding(saturating: ns)
                return true
            case let .acquire(recorded):
                let lock = replayedLock[recorded]
                if skips(lock) {
                    threads[t].pc += 1
                } else if owner[lock] < 0, readers[lock] == 0 {
                    owner[lock] = t
                    threads[t].pc += 1
                } else if owner[lock] == t {
                    reentries[lock] += 1
                    threads[t].pc += 1
                } else {
                    threads[t].status = .blockedOnLock
                    lockWaiters[lock].append(t)
                    return true
                }
            case let .acquireShared(recorded):
                let lock = replayedLock[recorded]
                if skips(lock) {
                    threads[t].pc += 1
                } else if owner[lock] < 0 || owner[lock] == t {
                    readers[lock] += 1
                    readHolds[t].append(lock)
                    threads[t].pc += 1
                } else {
                    threads[t].status = .blockedOnLock
                    lockWaiters[lock].append(t)
                    return true
                }
            case let .release(recorded):
                let lock = replayedLock[recorded]
                threads[t].pc += 1
                if !skips(lock), readHolds[t].contains(lock) {
                    releaseRead(lock, by: t)
                } else if !skips(lock), owner[lock] == t {
                    if reentries[lock] > 0 { reentries[lock] -= 1 } else { release(lock, by: t) }
                }
            case let .waitFor(thread, count, lock):
                if let lock, skips(replayedLock[lock]) {  // a wait for a lock this scenario removes
                    threads[t].pc += 1
                    continue
                }
                guard reached(thread, count) else {
                    threads[t].status = .waiting
                    awaited[t] = .thread(thread, ops: count)
                    return changed
                }
                if threads[t].status == .waiting { noteUnblock(t, cause: thread, lock: nil) }
                threads[t].status = .active
                threads[t].pc += 1
            case let .take(lock):
                if tokens == nil || skips(lock) || !replaysTokens[lock] {
                    threads[t].pc += 1
                } else if tokens![lock] > 0 {
                    tokens![lock] -= 1
                    threads[t].pc += 1
                } else {
                    threads[t].status = .blockedOnLock
                    lockWaiters[lock].append(t)
                    return true
                }
            case let .post(lock):
                threads[t].pc += 1
                if tokens != nil, !skips(lock), replaysTokens[lock] {
                    if lockWaiters[lock].isEmpty {
                        tokens![lock] += 1
                    } else {
                        grant(lock, to: lockWaiters[lock].removeFirst(), by: t)
                    }
                }
            case let .waitChild(pid):
                guard childDone(pid) else {
                    threads[t].status = .waiting
                    awaited[t] = .child(ended: ended)
                    return changed
                }
                if threads[t].status == .waiting, let last = (threadsOfPid[pid] ?? []).max(by: { threads[$0].finish < threads[$1].finish }) {
                    noteUnblock(t, cause: last, lock: nil)
                }
                threads[t].status = .active
                threads[t].pc += 1
            }
            changed = true
        }
        return changed
    }

    /// Thread `t` is done now, wherever it was (its ops run out, or its process ended).
    private mutating func end(_ t: Int) {
        switch threads[t].status {
        case .running: running.removeAll { $0 == t }
        case .blockedOnLock: for lock in lockWaiters.indices { lockWaiters[lock].remove(t) }
        default: break
        }
        if !followers[t].isEmpty { moved.append(t) }
        threads[t].status = .done
        ended += 1
        threads[t].finish = time
        // A thread that ends holding a lock (a process exiting with its
        // GIL) lets it go: its waiters would otherwise wait forever.
        for lock in owner.indices where owner[lock] == t { release(lock, by: t) }
        while let lock = readHolds[t].last { releaseRead(lock, by: t) }
    }

    /// Hands `lock` to its first waiter, or frees it. A reader first in line
    /// comes in with every other reader waiting.
    private mutating func release(_ lock: Int, by t: Int) {
        owner[lock] = -1
        reentries[lock] = 0
        guard let next = lockWaiters[lock].first else { return }
        if !waitsToRead(next) {
            lockWaiters[lock].removeFirst()
            owner[lock] = next
            grant(lock, to: next, by: t)
            return
        }
        let waiting = lockWaiters[lock].inOrder
        let readersWaiting = waiting.filter { waitsToRead($0) }
        lockWaiters[lock] = WaiterQueue(waiting.filter { !waitsToRead($0) })
        for reader in readersWaiting {
            readers[lock] += 1
            readHolds[reader].append(lock)
            grant(lock, to: reader, by: t)
        }
    }

    /// Ends one read hold of `lock` by `t`; the last reader out lets a writer in.
    private mutating func releaseRead(_ lock: Int, by t: Int) {
        if let i = readHolds[t].lastIndex(of: lock) { readHolds[t].remove(at: i) }
        readers[lock] = max(0, readers[lock] - 1)
        if readers[lock] == 0, owner[lock] < 0 { release(lock, by: t) }
    }

    @inline(__always)
    private func waitsToRead(_ t: Int) -> Bool {
        if case .acquireShared = opsOf[t][threads[t].pc] { return true }
        return false
    }

    private mutating func noteUnblock(_ t: Int, cause: Int, lock: Int?) {
        if tracksCriticalPath { unblocks[t].append((time, cause, lock)) }
    }

    private mutating func grant(_ lock: Int, to next: Int, by t: Int) {
        if !followers[next].isEmpty { moved.append(next) }
        threads[next].pc += 1
        skipTokens(next)
        threads[next].status = .active
        noteUnblock(next, cause: t, lock: lock)
    }

    /// Replays the scenario. When Python locks' tokens leave threads stuck (locks the
    /// trace cannot tell apart at one address, taken in another order than recorded), it
    /// replays it again without them: their waits alone, as with the GIL.
    mutating func run() -> Outcome {
        let outcome = runOnce()
        guard tokens != nil, outcome.stuckThreads > 0 else { return outcome }
        var again = ReplaySimulator(program: program, scenario: scenario, tokens: false)
        return again.runOnce()
    }

    private mutating func runOnce() -> Outcome {
        let cores = scenario.cores ?? Int.max
        var guardSteps = 0, work = 0, gaveUp = false
        var stillRunning: [Int] = []
        // The threads started or due to start and not done, in index order: the per-step
        // scans visit only these (a tree of thousands of short processes has few alive at
        // a time). Threads whose start is reached join it in place, so the scan visits
        // everyone in the order it would if all were in it from the start.
        // A thread to start after one the program does not have starts at once.
        var live = threads.indices.filter { t in startAfterOf[t].map { !threads.indices.contains($0.thread) } ?? false }
        while true {
            // Zero-time operations until nothing moves.
            var changed = true, someoneFinished = false
            var position = 0
            admitStarts(into: &live, before: &position)
            // Every thread started: the plain scan (a dense trace steps millions of times).
            while changed, followersWaiting == 0, nextTimedStart == timedStarts.count {
                changed = false
                for t in live where hasZeroTimeWork(t) && advance(t) {
                    changed = true
                    someoneFinished = someoneFinished || threads[t].status == .done
                }
            }
            while changed {
                changed = false
                position = 0
                while position < live.count {
                    let t = live[position]
                    if hasZeroTimeWork(t) && advance(t) {
                        changed = true
                        someoneFinished = someoneFinished || threads[t].status == .done
                        if !followers[t].isEmpty { moved.append(t) }
                        if !moved.isEmpty { admitStarts(into: &live, before: &position) }
                    }
                    position += 1
                }
                // Threads handed a lock are active again.
            }
            if someoneFinished { live.removeAll { threads[$0].status == .done } }
            let slice = currentSlice()
            // Give free CPUs to ready threads, first come first served.
            while running.count < cores, readyHead < readyQueue.count {
                let t = readyQueue[readyHead]
                readyHead += 1
                guard threads[t].status == .ready else { continue }
                threads[t].status = .running
                threads[t].sliceLeft = scenario.cores == nil ? UInt64.max : slice
                running.append(t)
            }
            if readyHead > 4096 && readyHead * 2 > readyQueue.count {
                readyQueue.removeFirst(readyHead)
                readyHead = 0
            }
            // The next moment something happens.
            var next = UInt64.max
            // With no thread waiting for a CPU, a slice's end changes nothing (the thread gets
            // the next slice at once): jump to the next real event instead of stepping 1 ms at a
            // time, so a long computation (or a huge gap in a hostile trace) costs one step.
            let someoneWaits = readyHead < readyQueue.count
            for t in running {
                next = min(next, time.adding(saturating: someoneWaits ? min(threads[t].remaining, threads[t].sliceLeft) : threads[t].remaining))
            }
            for t in live where threads[t].status == .delaying {
                next = min(next, threads[t].wakeAt)
            }
            if nextTimedStart < timedStarts.count {
                next = min(next, max(startTime(timedStarts[nextTimedStart]), time))
            }
            guard next != UInt64.max else { break }
            guardSteps += 1
            work += threads.count
            if guardSteps > 50_000_000 || work > Self.workLimit {
                gaveUp = true
                break
            }
            let elapsed = next - time
            time = next
            stillRunning.removeAllKeepingStorage()
            for t in running {
                threads[t].remaining -= min(elapsed, threads[t].remaining)
                if threads[t].remaining == 0, tokens == nil, let next = computeAfterTokens(t) {
                    if !followers[t].isEmpty { moved.append(t) }
                    (threads[t].pc, threads[t].remaining) = next
                }
                if threads[t].sliceLeft != UInt64.max {
                    if elapsed <= threads[t].sliceLeft {
                        threads[t].sliceLeft -= elapsed
                    } else {
                        // Slices renewed on the way (nobody waited): where the current one stands now.
                        let over = (elapsed - threads[t].sliceLeft) % slice
                        threads[t].sliceLeft = over == 0 ? 0 : slice - over
                    }
                }
                if threads[t].remaining == 0 {
                    if !followers[t].isEmpty { moved.append(t) }
                    threads[t].pc += 1
                    skipTokens(t)
                    threads[t].status = .active
                } else if threads[t].sliceLeft == 0 && readyHead < readyQueue.count {
                    threads[t].status = .ready  // slice used up and others wait: back of the queue
                    readyQueue.append(t)
                } else {
                    if threads[t].sliceLeft == 0 { threads[t].sliceLeft = slice }
                    stillRunning.append(t)
                }
            }
            swap(&running, &stillRunning)
            for t in live where threads[t].status == .delaying && threads[t].wakeAt <= time {
                if !followers[t].isEmpty { moved.append(t) }
                threads[t].pc += 1
                skipTokens(t)
                threads[t].status = .active
            }
        }
        let finished = threads.filter { $0.status == .done }
        let wall = finished.map(\.finish).max() ?? 0
        guard !gaveUp else { return Outcome(wallNanoseconds: 0, stuckThreads: threads.count - finished.count, gaveUp: true) }
        return Outcome(wallNanoseconds: wall, stuckThreads: threads.count - finished.count,
                       criticalPath: scenario.cores == nil ? criticalPath() : nil)
    }

    /// Where tokens are not replayed, passes the token operations at `t`'s pc at once, as
    /// the operations they stand between do without them: a thread let go at a post would
    /// otherwise see it one scan after the threads scanned before it.
    private mutating func skipTokens(_ t: Int) {
        guard tokens == nil else { return }
        while threads[t].pc < opsOf[t].count, opsOf[t][threads[t].pc].isToken { threads[t].pc += 1 }
    }

    /// The compute operation after the token operations that follow `t`'s current one,
    /// when the two are one where tokens are not replayed (`continuesAcrossTokens`).
    @inline(__always)
    private func computeAfterTokens(_ t: Int) -> (pc: Int, ns: UInt64)? {
        guard !continuesAcrossTokensOf[t].isEmpty else { return nil }
        var next = threads[t].pc + 1
        while next < opsOf[t].count, opsOf[t][next].isToken { next += 1 }
        guard continuesAcrossTokensOf[t].contains(next), case let .compute(ns) = opsOf[t][next], ns > 0 else { return nil }
        return (next, ns)
    }

    /// A thread the zero-time scan advances: not done, not on or waiting for a CPU, not
    /// delaying, not queued on a lock (those move only as time passes or a lock is let go).
    @inline(__always)
    private func hasZeroTimeWork(_ t: Int) -> Bool {
        switch threads[t].status {
        case .done, .running, .ready, .delaying, .blockedOnLock: return false
        case .notStarted, .active: return true
        case .waiting:
            switch awaited[t] {
            case let .thread(other, ops)?: return reached(other, ops)
            case let .child(endedThen)?: return endedThen != ended
            case nil: return true
            }
        }
    }

    /// Moves the threads whose start is reached into `live`, in index order. `position` is
    /// the scan's place in it: a thread placed at or before it moves it on by one, so the
    /// scan goes on with the thread it was at and reaches the newcomer on its next pass,
    /// as it would have reached it already in the array of every thread.
    private mutating func admitStarts(into live: inout [Int], before position: inout Int) {
        func admit(_ t: Int) {
            var low = 0, high = live.count
            while low < high {
                let mid = (low + high) / 2
                if live[mid] < t { low = mid + 1 } else { high = mid }
            }
            live.insert(t, at: low)
            if low <= position { position += 1 }
        }
        while nextTimedStart < timedStarts.count, startTime(timedStarts[nextTimedStart]) <= time {
            admit(timedStarts[nextTimedStart])
            nextTimedStart += 1
        }
        while let thread = moved.popLast() {
            var started = 0
            while started < followers[thread].count, let after = startAfterOf[followers[thread][started]], reached(thread, after.ops) {
                admit(followers[thread][started])
                started += 1
            }
            guard started > 0 else { continue }
            followers[thread].removeFirst(started)
            followersWaiting -= started
        }
    }

    /// The slice while threads wait for a CPU (`sliceShare`).
    @inline(__always)
    private func currentSlice() -> UInt64 {
        guard readyHead < readyQueue.count else { return Self.sliceNanoseconds }
        var shortest = UInt64.max
        for t in running { shortest = min(shortest, threads[t].remaining) }
        for i in readyHead..<readyQueue.count where threads[readyQueue[i]].status == .ready {
            shortest = min(shortest, threads[readyQueue[i]].remaining)
        }
        return max(Self.sliceNanoseconds, shortest == .max ? 0 : shortest / Self.sliceShare)
    }

    /// Walks back from the thread that finished last: each stretch of a thread
    /// since it was last let go, then the thread that let it go.
    private func criticalPath() -> CriticalPath? {
        guard var current = threads.indices.filter({ threads[$0].status == .done }).max(by: { threads[$0].finish < threads[$1].finish })
        else { return nil }
        var at = threads[current].finish
        var path = CriticalPath(lengthNanoseconds: at)
        // Per thread, how far back its unblocks were searched: times only decrease.
        var cursor = unblocks.map(\.count)
        var steps = 0
        while steps < 1_000_000 {
            steps += 1
            var unblock: Unblock?
            while cursor[current] > 0 {
                let candidate = unblocks[current][cursor[current] - 1]
                cursor[current] -= 1
                if candidate.time <= at && candidate.cause != current {
                    unblock = candidate
                    break
                }
            }
            let from = unblock?.time ?? startTime(current)
            path.threadNanoseconds[current] = path.threadNanoseconds[current, default: 0].adding(saturating: at > from ? at - from : 0)
            guard let unblock else { break }
            if let lock = unblock.lock { path.lockHandOffs[lock, default: 0] += 1 }
            path.joins += unblock.lock == nil ? 1 : 0
            current = unblock.cause
            at = unblock.time
            if at == 0 { break }
        }
        return path
    }
}

/// The longest chain of work through lock hand-offs, joins and waits for
/// children, with unlimited CPUs: no schedule can finish faster.
public struct CriticalPath: Sendable {
    public var lengthNanoseconds: UInt64
    /// Time on the path per thread index.
    public var threadNanoseconds: [Int: UInt64] = [:]
    /// Hand-offs on the path per lock index.
    public var lockHandOffs: [Int: Int] = [:]
    /// Waits for another thread or child on the path.
    public var joins = 0
}
