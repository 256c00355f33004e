import Foundation
import Testing
@testable import GtraceAnalysis
@testable import GtraceFormat

/// A thread that polls a lock (failed trylocks with sleeps between, as the `filelock`
/// package polls flock(LOCK_NB) every 50 ms) and then takes it waited for it from its
/// first failed try. A try that found the lock busy and moved on is no wait: the next
/// acquisition more than a second after it starts none; nor does a try by its holder.
@Suite struct PollingWaitTests {
    @Test func aPolledLockIsWaitedForFromTheFirstFailedTry() throws {
        var (t, _) = GILAnalysisTests.alternatingTrace(rounds: 1)
        t.gils = []
        t.locks = [LockInfo(index: 0, process: 0, address: 0x9000, kind: .mutex)]
        t.threads[0].endNanoseconds = 3_000_000_000
        t.threads[1].endNanoseconds = 3_000_000_000
        t.processes[0].endNanoseconds = 3_000_000_000
        let sleep = BlockingCall(rawValue: 1)
        let main: [TraceEvent] = [
            .init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
            .init(time: 50_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
        ]
        let worker: [TraceEvent] = [
            .init(time: 5_000, thread: 1, kind: .threadStart(creator: 0)),
            .init(time: 10_000, thread: 1, kind: .lockTryFailed(lock: 0, flags: [])),
            .init(time: 10_100, thread: 1, kind: .blockBegin(call: sleep, small: 0, argument: 0)),
            .init(time: 30_000, thread: 1, kind: .blockEnd(call: sleep, result: 0, detail: 0)),
            .init(time: 30_100, thread: 1, kind: .lockTryFailed(lock: 0, flags: [])),
            .init(time: 30_200, thread: 1, kind: .blockBegin(call: sleep, small: 0, argument: 0)),
            .init(time: 60_000, thread: 1, kind: .blockEnd(call: sleep, result: 0, detail: 0)),
            .init(time: 60_100, thread: 1, kind: .lockAcquire(lock: 0, flags: [])),
            .init(time: 70_000, thread: 1, kind: .lockRelease(lock: 0, flags: [])),
            // Busy once, then taken 2 s later: no wait.
            .init(time: 80_000, thread: 1, kind: .lockTryFailed(lock: 0, flags: [])),
            .init(time: 2_080_000_000, thread: 1, kind: .lockAcquire(lock: 0, flags: [])),
            // Its holder tries it (Python's Condition does, to see that it holds it),
            // releases it and takes it again: no wait either.
            .init(time: 2_080_000_500, thread: 1, kind: .lockTryFailed(lock: 0, flags: [])),
            .init(time: 2_080_001_000, thread: 1, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 2_080_002_000, thread: 1, kind: .lockAcquire(lock: 0, flags: [])),
            .init(time: 2_080_003_000, thread: 1, kind: .lockRelease(lock: 0, flags: [])),
        ]
        let analysis = try GILAnalysisTests.analyze((t, [main, worker]))
        let lock = try #require(analysis.locks.first { $0.index == 0 })
        #expect(lock.waitCount == 1 && lock.waitTotalNanoseconds == 50_100, "\(lock.waitCount) waits, \(lock.waitTotalNanoseconds) ns")
        #expect(lock.contendedAcquisitions == 1 && lock.acquisitions == 4)
        #expect(lock.trylockBusy == 4)
    }
}
