@testable import GtraceAnalysis
import Testing

/// The replay and the utilisation histogram on programs with exact answers.
struct ReplayTests {
    static let ms: UInt64 = 1_000_000

    /// Two threads, each 5 ms of work, then 5 ms under lock 0.
    static func twoThreadsSharingALock(gil: Bool = false) -> ReplayProgram {
        let ops: [ReplayProgram.Op] = [.compute(5 * ms), .acquire(lock: 0), .compute(5 * ms), .release(lock: 0)]
        let threads = (0..<2).map { ReplayProgram.Thread(index: $0, process: 0, tid: Int32(100 + $0), startAfter: nil, startNanoseconds: 0, ops: ops) }
        return ReplayProgram(threads: threads, gilLocks: gil ? [0] : [], recordedWallNanoseconds: 15 * ms, startNanoseconds: 0,
                             pidOfProcess: [100], measuredOnCPU: true)
    }

    static func wall(_ program: ReplayProgram, _ scenario: ReplayScenario) -> UInt64 {
        var simulator = ReplaySimulator(program: program, scenario: scenario)
        return simulator.run().wallNanoseconds
    }

    /// Threads not started yet wait outside the replay's per-step scan (ReplaySimulator.admitStarts)
    /// and start as they did in it: one due after an operation its creator has already reached
    /// starts at once, even before its creator runs (a Rust program's replay differed by 134 µs
    /// when it waited for its creator to move); one started after each of 50 turns of its
    /// creator starts right after that turn.
    @Test func threadsStartWhenTheirStartIsReached() {
        let creator = ReplayProgram.Thread(index: 0, process: 0, tid: 1, startAfter: nil, startNanoseconds: 5 * Self.ms, ops: [.compute(10 * Self.ms)])
        let early = ReplayProgram.Thread(index: 1, process: 0, tid: 2, startAfter: (0, 0), startNanoseconds: 0, ops: [.compute(20 * Self.ms)])
        let program = ReplayProgram(threads: [creator, early], gilLocks: [], recordedWallNanoseconds: 20 * Self.ms, startNanoseconds: 0,
                                    pidOfProcess: [1], measuredOnCPU: true)
        #expect(Self.wall(program, ReplayScenario(name: "2 cores", cores: 2)) == 20 * Self.ms)
        // A main thread that starts a worker after each 1 ms turn and waits for it to end.
        var mainOps: [ReplayProgram.Op] = []
        var workers: [ReplayProgram.Thread] = []
        for k in 0..<50 {
            mainOps.append(.compute(Self.ms))
            workers.append(ReplayProgram.Thread(index: k + 1, process: 0, tid: Int32(k + 2), startAfter: (0, mainOps.count), startNanoseconds: 0,
                                                ops: [.compute(2 * Self.ms)]))
            mainOps.append(.waitFor(thread: k + 1, ops: 1, lock: nil))
        }
        let relay = ReplayProgram(threads: [ReplayProgram.Thread(index: 0, process: 0, tid: 1, startAfter: nil, startNanoseconds: 0, ops: mainOps)] + workers,
                                  gilLocks: [], recordedWallNanoseconds: 150 * Self.ms, startNanoseconds: 0, pidOfProcess: [1], measuredOnCPU: true)
        #expect(Self.wall(relay, ReplayScenario(name: "1 core", cores: 1)) == 150 * Self.ms)
        #expect(Self.wall(relay, ReplayScenario(name: "unlimited", cores: nil)) == 150 * Self.ms)
    }

    /// A Python lock's tokens (ReplayBuilder.keepTokens): two threads that each take it,
    /// compute 10 ms and post it, 4 times, with the GIL (lock 0) around everything. With
    /// the GIL, the tokens are not replayed and the GIL alone keeps them in turn; without
    /// it, the lock does: 80 ms on 2 cores either way, where the lock's waits alone (none
    /// were recorded) let them overlap in 40. A lock the recording shows only as a signal
    /// keeps its waits; and tokens that would leave a thread stuck (posted by nobody) are
    /// replayed again without them.
    @Test func aPythonLockTakenAsAMutexKeepsThreadsInTurnWithoutTheGIL() {
        var ops: [ReplayProgram.Op] = []
        for _ in 0..<4 { ops += [.acquire(lock: 0), .take(lock: 1), .compute(10 * Self.ms), .post(lock: 1), .release(lock: 0)] }
        let threads = (0..<2).map { ReplayProgram.Thread(index: $0, process: 0, tid: Int32(100 + $0), startAfter: nil, startNanoseconds: 0, ops: ops) }
        var program = ReplayProgram(threads: threads, gilLocks: [0], recordedWallNanoseconds: 80 * Self.ms, startNanoseconds: 0,
                                    pidOfProcess: [100], measuredOnCPU: true)
        program.initialTokens = [1: 1]
        #expect(Self.wall(program, ReplayScenario(name: "as recorded", cores: 2)) == 80 * Self.ms)
        #expect(Self.wall(program, ReplayScenario(name: "without the GIL", cores: 2, removeGIL: true)) == 80 * Self.ms)
        var signalOnly = program
        signalOnly.initialTokens = [:]
        #expect(Self.wall(signalOnly, ReplayScenario(name: "without the GIL", cores: 2, removeGIL: true)) == 40 * Self.ms)
        // Thread 1 takes a token no one posts: the replay drops the tokens rather than stop.
        var stuck = program
        stuck.threads[1].ops.insert(.take(lock: 2), at: 0)
        stuck.initialTokens = [1: 1, 2: 0]
        var simulator = ReplaySimulator(program: stuck, scenario: ReplayScenario(name: "without the GIL", cores: 2, removeGIL: true))
        let outcome = simulator.run()
        #expect(outcome.stuckThreads == 0)
        #expect(outcome.wallNanoseconds == 40 * Self.ms)
    }

    /// A binary semaphore's tokens (a C program's lock, no GIL): two threads that each take
    /// it, compute 10 ms and post it, 4 times, with no wait recorded (each take found it
    /// free). Its tokens are replayed in every scenario (`tokensWithGIL`): 80 ms on 2
    /// cores as recorded, where its waits alone let the threads overlap in 40; the what-if
    /// without it removes them.
    @Test func aBinarySemaphoreKeepsThreadsInTurnInEveryScenario() {
        var ops: [ReplayProgram.Op] = []
        for _ in 0..<4 { ops += [.take(lock: 0), .compute(10 * Self.ms), .post(lock: 0)] }
        let threads = (0..<2).map { ReplayProgram.Thread(index: $0, process: 0, tid: Int32(100 + $0), startAfter: nil, startNanoseconds: 0, ops: ops) }
        var program = ReplayProgram(threads: threads, gilLocks: [], recordedWallNanoseconds: 80 * Self.ms, startNanoseconds: 0,
                                    pidOfProcess: [100], measuredOnCPU: true)
        program.initialTokens = [0: 1]
        program.tokensWithGIL = [0]
        #expect(Self.wall(program, ReplayScenario(name: "as recorded", cores: 2)) == 80 * Self.ms)
        #expect(Self.wall(program, ReplayScenario(name: "unlimited", cores: nil)) == 80 * Self.ms)
        #expect(Self.wall(program, ReplayScenario(name: "without it", cores: 2, removedLock: 0)) == 40 * Self.ms)
        var pythonLock = program
        pythonLock.tokensWithGIL = []
        #expect(Self.wall(pythonLock, ReplayScenario(name: "as recorded", cores: 2)) == 40 * Self.ms)
    }

    @Test func coresAndALockBoundTheWallTime() {
        let program = Self.twoThreadsSharingALock()
        #expect(Self.wall(program, ReplayScenario(name: "1 core", cores: 1)) == 20 * Self.ms)
        // The outside parts overlap; the locked parts take turns.
        #expect(Self.wall(program, ReplayScenario(name: "2 cores", cores: 2)) == 15 * Self.ms)
        #expect(Self.wall(program, ReplayScenario(name: "no lock", cores: 2, removedLock: 0)) == 10 * Self.ms)
    }

    /// Readers of a rwlock hold it together; a writer waits for all of them, and
    /// readers waiting for the writer all come in at its release.
    @Test func readersShareARWLockAndAWriterWaitsForThem() {
        let reader: [ReplayProgram.Op] = [.acquireShared(lock: 0), .compute(10 * Self.ms), .release(lock: 0)]
        let writer: [ReplayProgram.Op] = [.compute(1 * Self.ms), .acquire(lock: 0), .compute(4 * Self.ms), .release(lock: 0)]
        let late: [ReplayProgram.Op] = [.compute(12 * Self.ms), .acquireShared(lock: 0), .compute(2 * Self.ms), .release(lock: 0)]
        let ops = [reader, reader, writer, late, late]
        let threads = ops.indices.map { ReplayProgram.Thread(index: $0, process: 0, tid: Int32(100 + $0), startAfter: nil, startNanoseconds: 0, ops: ops[$0]) }
        let program = ReplayProgram(threads: threads, gilLocks: [], recordedWallNanoseconds: 18 * Self.ms, startNanoseconds: 0,
                                    pidOfProcess: [100], measuredOnCPU: true)
        // Unlimited cores: the readers overlap (0–10 ms), the writer holds 10–14 ms, the
        // late readers (ready at 12 ms) both come in at 14 ms and end at 16 ms. As a
        // mutex the readers would take turns: 10 + 10 + 4 + 2 + 2 = 28 ms.
        #expect(Self.wall(program, ReplayScenario(name: "∞", cores: nil)) == 16 * Self.ms)
        #expect(Self.wall(program, ReplayScenario(name: "no lock", cores: nil, removedLock: 0)) == 14 * Self.ms)
    }

    @Test func removingTheGILRemovesOnlyGILLocks() {
        let program = Self.twoThreadsSharingALock(gil: true)
        #expect(Self.wall(program, ReplayScenario(name: "with GIL", cores: 2)) == 15 * Self.ms)
        #expect(Self.wall(program, ReplayScenario(name: "without", cores: 2, removeGIL: true)) == 10 * Self.ms)
    }

    @Test func criticalPathGoesThroughTheHandOff() throws {
        var simulator = ReplaySimulator(program: Self.twoThreadsSharingALock(), scenario: ReplayScenario(name: "∞", cores: nil))
        let path = try #require(simulator.run().criticalPath)
        #expect(path.lengthNanoseconds == 15 * Self.ms)
        #expect(path.lockHandOffs[0] == 1)
        #expect(path.threadNanoseconds.values.reduce(0, +) == 15 * Self.ms)
    }

    @Test func joinsAndDelaysAreKept() {
        // Main starts a worker after 1 ms of work, sleeps 2 ms, then joins the worker (10 ms of work).
        let main = ReplayProgram.Thread(index: 0, process: 0, tid: 1, startAfter: nil, startNanoseconds: 0,
                                        ops: [.compute(Self.ms), .delay(2 * Self.ms), .waitFor(thread: 1, ops: 1), .compute(Self.ms)])
        let worker = ReplayProgram.Thread(index: 1, process: 0, tid: 2, startAfter: (0, 1), startNanoseconds: 0, ops: [.compute(10 * Self.ms)])
        let program = ReplayProgram(threads: [main, worker], gilLocks: [], recordedWallNanoseconds: 0, startNanoseconds: 0,
                                    pidOfProcess: [1], measuredOnCPU: true)
        #expect(Self.wall(program, ReplayScenario(name: "2", cores: 2)) == 12 * Self.ms)
        // One core: the worker's 10 ms and main's 2 ms of work share it; the delay overlaps.
        #expect(Self.wall(program, ReplayScenario(name: "1", cores: 1)) == 12 * Self.ms)
    }

    @Test func histogramCoversTheWallAndWeighsToTheCPUTime() {
        let intervals: [(start: UInt64, end: UInt64)] = [(0, 10), (5, 15), (12, 20), (25, 30)]
        let levels = UtilisationHistogram.levels(intervals, runStart: 0, runEnd: 40)
        // 0 on a CPU: 20–25 and 30–40; 2: 5–10 and 12–15; 1: the rest.
        #expect(levels.map(\.nanoseconds) == [15, 17, 8])
        #expect(levels.map(\.nanoseconds).reduce(0, +) == 40)
        #expect(levels.reduce(0) { $0 + UInt64($1.threadsOnCPU) * $1.nanoseconds } == 10 + 10 + 8 + 5)
    }

    /// On at least as many cores as threads no thread waits for a CPU: the replay on more
    /// cores than that is the same, which lets the analysis replay such a what-if once
    /// (`Analyzer.sameReplays`). Five threads of uneven work, a lock, a sleep, a join.
    @Test func moreCoresThanThreadsReplayAlike() {
        let work: [[ReplayProgram.Op]] = (0..<5).map { k in
            [.compute(UInt64(3 + k) * Self.ms), .acquire(lock: 0), .compute(2 * Self.ms), .release(lock: 0),
             .delay(UInt64(k) * Self.ms), .compute(UInt64(7 - k) * Self.ms)]
        }
        let ops = work + [[.waitFor(thread: 0, ops: 6), .waitFor(thread: 4, ops: 6), .compute(1 * Self.ms)]]
        let threads = ops.indices.map { ReplayProgram.Thread(index: $0, process: 0, tid: Int32(100 + $0), startAfter: nil, startNanoseconds: 0, ops: ops[$0]) }
        let program = ReplayProgram(threads: threads, gilLocks: [0], recordedWallNanoseconds: 40 * Self.ms, startNanoseconds: 0,
                                    pidOfProcess: [100], measuredOnCPU: true)
        for removeGIL in [false, true] {
            let walls = [1, 2, 4, 6, 8, 16].map { Self.wall(program, ReplayScenario(name: "w", cores: $0, removeGIL: removeGIL)) }
            #expect(walls[3] == walls[4] && walls[4] == walls[5], "\(walls)")
            #expect(walls[0] > walls[1], "\(walls)")  // fewer cores than threads: they wait
        }
        let whatIfs = [1, 2, 4, 8, 16].map { ReplayScenario(name: "as recorded", cores: $0) }
            + [1, 2, 4, 8, 16].map { ReplayScenario(name: "without the GIL", cores: $0, removeGIL: true) }
        // 6 threads: 16 replays as 8; 4 cores (fewer than the threads) are replayed.
        #expect(Analyzer.sameReplays(whatIfs, threads: 6) == [4: 3, 9: 8])
        #expect(Analyzer.sameReplays(whatIfs, threads: 2) == [2: 1, 3: 1, 4: 1, 7: 6, 8: 6, 9: 6])
    }
}
