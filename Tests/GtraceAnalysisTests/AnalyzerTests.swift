import Foundation
import Testing
@testable import GtraceAnalysis
@testable import GtraceFormat

/// Analysis of small synthetic traces whose numbers are known exactly.
@Suite struct AnalyzerTests {
    /// Two threads take one mutex in turns: A holds [1000, 3000), B waits [1500, 3000) then holds [3000, 4000),
    /// A waits [3500, 4000) then holds [4000, 4500). The process lives [0, 10000).
    func handOffTrace() -> (TraceTables, [[TraceEvent]]) {
        var t = TraceTables()
        t.processes = [ProcessInfo(index: 0, pid: 10, ppid: 1, parent: nil, image: 0, executable: "/x", arguments: ["x"],
                                   startNanoseconds: 0, endNanoseconds: 10_000, exitKind: .mainReturn, exitStatus: 0,
                                   userCPUNanoseconds: 0, systemCPUNanoseconds: 0)]
        t.threads = [
            ThreadInfo(index: 0, process: 0, tid: 10, name: "a", creator: nil, startNanoseconds: 0, endNanoseconds: 10_000,
                       endKind: .processEnded, cpuNanoseconds: nil),
            ThreadInfo(index: 1, process: 0, tid: 11, name: "b", creator: 0, startNanoseconds: 500, endNanoseconds: 5_000,
                       endKind: .returned, cpuNanoseconds: nil),
        ]
        t.locks = [LockInfo(index: 0, process: 0, address: 0x1000, kind: .mutex)]
        let a: [TraceEvent] = [
            .init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
            .init(time: 3_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 3_500, thread: 0, kind: .lockWait(lock: 0, flags: [])),
            .init(time: 4_000, thread: 0, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 4_500, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
        ]
        let b: [TraceEvent] = [
            .init(time: 1_500, thread: 1, kind: .lockWait(lock: 0, flags: [])),
            .init(time: 3_000, thread: 1, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 4_000, thread: 1, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 5_000, thread: 1, kind: .threadEnd(kind: .returned, cpuNanoseconds: 7)),
        ]
        return (t, [a, b])
    }

    func analyze(_ trace: (TraceTables, [[TraceEvent]])) throws -> TraceAnalysis {
        let path = NSTemporaryDirectory() + "gtrace-analysis-\(UUID().uuidString).data"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try TraceFileWriter.write(path: path, tables: trace.0, eventsByThread: trace.1)
        return Analyzer.analyze(try TraceFile(path: path))
    }

    @Test func lockNumbersOfAKnownSchedule() throws {
        let analysis = try analyze(handOffTrace())
        #expect(analysis.summary.wallNanoseconds == 10_000)
        let lock = try #require(analysis.locks.first)
        #expect(lock.acquisitions == 3)
        #expect(lock.contendedAcquisitions == 2)
        #expect(lock.ownerChanges == 2)
        #expect(lock.holdTotalNanoseconds == 2_000 + 1_000 + 500)
        #expect(lock.holdMaxNanoseconds == 2_000)
        #expect(lock.holdMeanNanoseconds == 3_500 / 3)
        #expect(lock.heldNanoseconds == 3_500)
        #expect(abs(lock.holdRatio - 0.35) < 1e-12)
        #expect(lock.waitCount == 2)
        #expect(lock.waitTotalNanoseconds == 1_500 + 500)
        #expect(lock.waitMaxNanoseconds == 1_500)
        #expect(abs(lock.waitRatio - 0.2) < 1e-12)
        #expect(lock.threadsUsing == 2)
    }

    @Test func threadNumbersOfAKnownSchedule() throws {
        let analysis = try analyze(handOffTrace())
        let a = try #require(analysis.threads.first { $0.tid == 10 })
        let b = try #require(analysis.threads.first { $0.tid == 11 })
        #expect(a.holdingNanoseconds == 2_500)
        #expect(a.waitingNanoseconds == 500)
        #expect(a.acquisitions == 2)
        #expect(a.lifetimeNanoseconds == 10_000)
        #expect(b.holdingNanoseconds == 1_000)
        #expect(b.waitingNanoseconds == 1_500)
        #expect(b.lifetimeNanoseconds == 4_500)
    }

    @Test func sharedReadersCountHeldTimeOnce() throws {
        var (t, _) = handOffTrace()
        t.locks = [LockInfo(index: 0, process: 0, address: 0x2000, kind: .rwlock)]
        let read: LockFlags = [.rwlock, .shared]
        let a: [TraceEvent] = [.init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: read)),
                               .init(time: 3_000, thread: 0, kind: .lockRelease(lock: 0, flags: read))]
        let b: [TraceEvent] = [.init(time: 2_000, thread: 1, kind: .lockAcquire(lock: 0, flags: read)),
                               .init(time: 4_000, thread: 1, kind: .lockRelease(lock: 0, flags: read))]
        let lock = try #require(try analyze((t, [a, b])).locks.first)
        #expect(lock.holdTotalNanoseconds == 4_000)
        #expect(lock.heldNanoseconds == 3_000)
        #expect(lock.acquisitions == 2)
        #expect(lock.contendedAcquisitions == 0)
    }

    @Test func conditionWaitReleasesItsMutex() throws {
        var (t, _) = handOffTrace()
        t.locks.append(LockInfo(index: 1, process: 0, address: 0x3000, kind: .condition))
        let a: [TraceEvent] = [
            .init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
            .init(time: 1_100, thread: 0, kind: .lockRelease(lock: 0, flags: .viaCondition)),
            .init(time: 1_100, thread: 0, kind: .conditionWait(condition: 1, mutex: 0)),
            .init(time: 6_100, thread: 0, kind: .conditionWoke(condition: 1, mutex: 0, result: 0)),
            .init(time: 6_100, thread: 0, kind: .lockAcquire(lock: 0, flags: .viaCondition)),
            .init(time: 6_200, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
        ]
        let analysis = try analyze((t, [a, []]))
        let lock = try #require(analysis.locks.first)
        #expect(lock.holdTotalNanoseconds == 200)
        #expect(lock.acquisitions == 2)
        #expect(lock.ownerChanges == 0)
        let condition = try #require(analysis.conditions.first)
        #expect(condition.waits == 1)
        #expect(condition.waitTotalNanoseconds == 5_000)
        #expect(analysis.threads[0].conditionWaitNanoseconds == 5_000)
        #expect(analysis.threads[0].waitingNanoseconds == 0)
    }

    /// A recursive mutex locked twice per hold: two acquisitions, one hold, and
    /// the held time and the thread's holding time count it once.
    @Test func aRecursiveRelockIsAnAcquisitionNotAHold() throws {
        var (t, _) = handOffTrace()
        t.threads = [t.threads[0]]
        let a: [TraceEvent] = [.init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                               .init(time: 1_500, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                               .init(time: 2_500, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
                               .init(time: 3_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
                               .init(time: 5_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                               .init(time: 6_000, thread: 0, kind: .lockRelease(lock: 0, flags: []))]
        let analysis = try analyze((t, [a]))
        let lock = try #require(analysis.locks.first)
        #expect(lock.acquisitions == 3)
        #expect(lock.holdTotalNanoseconds == 3_000)
        #expect(lock.holdMaxNanoseconds == 2_000)
        #expect(lock.heldNanoseconds == 3_000)
        #expect(analysis.threads[0].holdingNanoseconds == 3_000)
        #expect(analysis.threads[0].acquisitions == 3)
    }

    /// A Python lock (a semaphore) has no owner: B's release ends A's hold, and A's
    /// next acquisition is a new hold, not a second level of the first.
    @Test func aPythonLockReleasedByAnotherThreadEndsItsHolderHold() throws {
        var (t, _) = handOffTrace()
        t.locks = [LockInfo(index: 0, process: 0, address: 0x4000, kind: .pythonLock)]
        let a: [TraceEvent] = [.init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                               .init(time: 3_500, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                               .init(time: 4_000, thread: 0, kind: .lockRelease(lock: 0, flags: []))]
        let b: [TraceEvent] = [.init(time: 3_000, thread: 1, kind: .lockRelease(lock: 0, flags: []))]
        let analysis = try analyze((t, [a, b]))
        let lock = try #require(analysis.locks.first)
        #expect(lock.acquisitions == 2)
        #expect(lock.holdTotalNanoseconds == 2_000 + 500)
        #expect(lock.holdMaxNanoseconds == 2_000)
        #expect(lock.heldNanoseconds == 2_500)
        #expect(analysis.threads[0].holdingNanoseconds == 2_500)
    }

    /// A thread that waits for a Python lock it holds uses it as a signal (a
    /// Condition's waiter lock: taken, then waited for until notify() releases it
    /// from another thread), not as a mutex: the time until the signal is a wait,
    /// not a hold (an HTTP client pool's futures were a lock "held 81% of the wall
    /// time" that "serialises the threads"). Its holds stop at the first such wait.
    @Test func aPythonLockItsHolderWaitsForIsASignalNotAHold() throws {
        var (t, _) = handOffTrace()
        t.locks = [LockInfo(index: 0, process: 0, address: 0x4000, kind: .pythonLock)]
        let a: [TraceEvent] = [.init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                               .init(time: 1_200, thread: 0, kind: .lockWait(lock: 0, flags: [])),
                               .init(time: 3_500, thread: 0, kind: .lockAcquired(lock: 0, flags: [])),
                               .init(time: 4_000, thread: 0, kind: .lockRelease(lock: 0, flags: []))]
        let b: [TraceEvent] = [.init(time: 3_000, thread: 1, kind: .lockRelease(lock: 0, flags: []))]
        let analysis = try analyze((t, [a, b]))
        let lock = try #require(analysis.locks.first)
        #expect(lock.acquisitions == 2)
        #expect(lock.holdTotalNanoseconds == 200)
        #expect(lock.heldNanoseconds == 200)
        #expect(lock.waitTotalNanoseconds == 2_300)
        #expect(analysis.threads[0].holdingNanoseconds == 200)
    }

    /// A Python lock taken again by its holder with no release in between is a
    /// counting semaphore, or one given back in another process (a
    /// multiprocessing.Queue's slots): acquisitions and waits count, holds stop.
    @Test func aSemaphoreTakenAgainByItsHolderHasNoMadeUpHolds() throws {
        var (t, _) = handOffTrace()
        t.threads = [t.threads[0]]
        t.locks = [LockInfo(index: 0, process: 0, address: 0x4000, kind: .pythonLock)]
        let a: [TraceEvent] = [.init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                               .init(time: 1_100, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                               .init(time: 1_200, thread: 0, kind: .lockWait(lock: 0, flags: [])),
                               .init(time: 4_200, thread: 0, kind: .lockAcquired(lock: 0, flags: [])),
                               .init(time: 5_000, thread: 0, kind: .lockAcquire(lock: 0, flags: []))]
        let analysis = try analyze((t, [a]))
        let lock = try #require(analysis.locks.first)
        #expect(lock.acquisitions == 4)
        #expect(lock.contendedAcquisitions == 1)
        #expect(lock.holdTotalNanoseconds == 100)
        #expect(lock.heldNanoseconds == 100)
        #expect(lock.waitTotalNanoseconds == 3_000)
        #expect(analysis.threads[0].holdingNanoseconds == 100)
    }

    @Test func holdsOpenAtProcessExitAreClosedThere() throws {
        var (t, _) = handOffTrace()
        t.threads = [t.threads[0]]
        let a: [TraceEvent] = [.init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                               .init(time: 9_000, thread: 0, kind: .processExit(kind: .exitCall, status: 0))]
        let lock = try #require(try analyze((t, [a])).locks.first)
        #expect(lock.holdTotalNanoseconds == 8_000)
    }

    @Test func histogramPercentilesAreWithinTwoPercent() {
        var h = LogHistogram()
        for v in 1...10_000 { h.record(UInt64(v) * 1_000) }
        let p99 = Double(h.percentile(0.99))
        #expect(abs(p99 - 9_900_000) / 9_900_000 < 0.02)
        let p50 = Double(h.percentile(0.5))
        #expect(abs(p50 - 5_000_000) / 5_000_000 < 0.02)
        var small = LogHistogram()
        for v in [3, 3, 7] { small.record(UInt64(v)) }
        #expect(small.percentile(1.0) == 7)
        #expect(small.percentile(0.5) == 3)
    }
}

/// Rule 2f's span of the others' exchanges, per process: from the earliest of the others'
/// first writes to the latest of their last ones, itself left out.
struct OthersExchangeSpanTests {
    @Test func eachProcessGetsTheSpanOfTheOthers() {
        // A pool's parent (0) writes from 0 to 100; its workers (1, 2) from 40 to 90 and 50 to 95.
        let spans: [Int: (start: UInt64, end: UInt64)] = [0: (0, 100), 1: (40, 90), 2: (50, 95)]
        let others = ProcessExchangeAccumulator.othersSpans(spans)
        #expect(others[0].map { [$0.start, $0.end] } == [40, 95])
        #expect(others[1].map { [$0.start, $0.end] } == [0, 100])
        #expect(others[2].map { [$0.start, $0.end] } == [0, 100])
        #expect(ProcessExchangeAccumulator.othersSpans([0: (0, 100)]).isEmpty)
    }
}
