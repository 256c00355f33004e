import Foundation
import Testing
@testable import GtraceAnalysis
@testable import GtraceFormat

/// The GIL section of a synthetic CPython process whose schedule is known exactly.
@Suite struct GILAnalysisTests {
    /// Process [0, 100_000). Main thread (tid 10) holds the GIL [0, 10_000), starts
    /// thread 11 at 5_000 (lives until 90_000), which asks for the GIL at 6_000.
    /// Then the two alternate in 10 µs holds with 1 µs hand-off gaps; the
    /// thread that released asks again 0.5 µs after the other acquired.
    static func alternatingTrace(rounds: Int = 8) -> (TraceTables, [[TraceEvent]]) {
        var t = TraceTables()
        t.info = RunInfo(values: [("cpus", "2")])
        t.processes = [ProcessInfo(index: 0, pid: 10, ppid: 1, parent: nil, image: 0, executable: "/usr/bin/python3",
                                   arguments: ["python3", "x.py"], startNanoseconds: 0, endNanoseconds: 100_000,
                                   exitKind: .mainReturn, exitStatus: 0, userCPUNanoseconds: 0, systemCPUNanoseconds: 0)]
        t.threads = [
            ThreadInfo(index: 0, process: 0, tid: 10, name: "python3", creator: nil, startNanoseconds: 0,
                       endNanoseconds: 100_000, endKind: .processEnded, cpuNanoseconds: 60_000),
            ThreadInfo(index: 1, process: 0, tid: 11, name: "worker", creator: 0, startNanoseconds: 5_000,
                       endNanoseconds: 90_000, endKind: .returned, cpuNanoseconds: 40_000),
        ]
        t.locks = [LockInfo(index: 0, process: 0, address: 0x7000, kind: .gil)]
        t.gils = [GILInfo(process: 0, lock: 0, versionHex: 0x030b07f0, status: [.byLayout, .byPattern], address: 0x7000,
                          runtimeAddress: 0x6000, switchNumber: UInt64(1 + rounds), intervalMicroseconds: 10)]
        var main: [TraceEvent] = [.init(time: 0, thread: 0, kind: .lockAcquire(lock: 0, flags: []))]
        var worker: [TraceEvent] = [.init(time: 5_000, thread: 1, kind: .threadStart(creator: 0)),
                                    .init(time: 6_000, thread: 1, kind: .lockWait(lock: 0, flags: []))]
        // Round r: the holder releases at 10_000 + 11_000 r, the other acquires 1 µs later.
        var holderIsMain = true
        for r in 0..<rounds {
            let release = UInt64(10_000 + 11_000 * r)
            let acquire = release + 1_000
            if holderIsMain {
                main.append(.init(time: release, thread: 0, kind: .lockRelease(lock: 0, flags: [])))
                worker.append(.init(time: acquire, thread: 1, kind: .lockAcquired(lock: 0, flags: [])))
                main.append(.init(time: acquire + 500, thread: 0, kind: .lockWait(lock: 0, flags: [])))
            } else {
                worker.append(.init(time: release, thread: 1, kind: .lockRelease(lock: 0, flags: [])))
                main.append(.init(time: acquire, thread: 0, kind: .lockAcquired(lock: 0, flags: [])))
                worker.append(.init(time: acquire + 500, thread: 1, kind: .lockWait(lock: 0, flags: [])))
            }
            holderIsMain.toggle()
        }
        worker.append(.init(time: 90_000, thread: 1, kind: .threadEnd(kind: .returned, cpuNanoseconds: 40_000)))
        main.append(.init(time: 100_000, thread: 0, kind: .processExit(kind: .mainReturn, status: 0)))
        return (t, [main, worker])
    }

    static func analyze(_ trace: (TraceTables, [[TraceEvent]])) throws -> TraceAnalysis {
        let path = NSTemporaryDirectory() + "gtrace-gil-\(UUID().uuidString).data"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try TraceFileWriter.write(path: path, tables: trace.0, eventsByThread: trace.1)
        return Analyzer.analyze(try TraceFile(path: path))
    }

    @Test func handOffsLatencyAndCPythonCrossCheck() throws {
        let analysis = try Self.analyze(Self.alternatingTrace())
        let gil = try #require(analysis.gil.first)
        #expect(gil.python == "3.11.7")
        #expect(gil.acquisitions == 9)
        #expect(gil.handOffs == 8)
        #expect(gil.cpythonHandOffs == 8)
        #expect(gil.contendedAcquisitions == 8, "every acquisition after the first waited for a holder")
        #expect(gil.matchesCPython == true)
        #expect(gil.handOffLatencyP50Nanoseconds == 1_000)
        #expect(gil.handOffLatencyMeanNanoseconds == 1_000)
        // Holds: 10 µs each (the histogram is within 1.6%); the last one runs to the process end.
        #expect(abs(Double(gil.holdP50Nanoseconds) - 10_000) <= 160)
        #expect(abs(Double(gil.observedSwitchIntervalNanoseconds ?? 0) - 10_000) <= 160)
        #expect(gil.cpythonIntervalMicroseconds == 10)
        // The window with two threads is [5_000, 90_000).
        #expect(gil.multithreadedNanoseconds == 85_000)
        let lock = try #require(analysis.locks.first)
        #expect(lock.name == "GIL (CPython 3.11)")
    }

    @Test func perThreadTimesSplitByGILState() throws {
        let analysis = try Self.analyze(Self.alternatingTrace())
        let worker = try #require(analysis.threads.first { $0.tid == 11 }?.gil)
        // Worker holds in rounds 0, 2, 4, 6: 4 × 10 µs. It waits 6→11 µs, then 3 × 10.5 µs
        // between rounds, and from 88.5 µs until it ends at 90 µs.
        #expect(worker.holdingNanoseconds == 40_000)
        #expect(worker.waitingNanoseconds == 5_000 + 3 * 10_500 + 1_500)
        #expect(worker.runningWithoutGILNanoseconds == 0)
        let main = try #require(analysis.threads.first { $0.tid == 10 }?.gil)
        #expect(main.runningWithoutGILNanoseconds == 60_000 - main.holdingNanoseconds)
        #expect(analysis.threads.allSatisfy { $0.acquisitions == 0 }, "the GIL is not counted as a lock the thread holds")
    }

    @Test func cpuBoundVerdict() throws {
        let analysis = try Self.analyze(Self.alternatingTrace())
        let verdict = analysis.verdict.joined(separator: " ")
        #expect(verdict.hasPrefix("CPU-bound Python under the GIL: 2 threads of process"), "\(verdict)")
        #expect(analysis.limit?.kind == "GIL")
        #expect(!verdict.contains("partly serialised"))
    }

    /// A main thread holds the GIL 200 µs alone, then three workers take turns, the others
    /// waiting (worker 1 holds 20 µs a turn, workers 2 and 3 10 µs; 120 µs), then main holds
    /// 10 µs more. Main and worker 1 held it at least a quarter as long as main; with ~1.7 threads
    /// waiting on average at least 3 took turns (a `ThreadPoolExecutor` between serial parts
    /// was "2 threads … took turns …, 2.7 threads waiting").
    @Test func threadsTakingTurnsAreAtLeastTheWaitersPlusOne() throws {
        var t = TraceTables()
        t.info = RunInfo(values: [("cpus", "2")])
        t.processes = [ProcessInfo(index: 0, pid: 10, ppid: 1, parent: nil, image: 0, executable: "/usr/bin/python3",
                                   arguments: ["python3", "x.py"], startNanoseconds: 0, endNanoseconds: 330_000,
                                   exitKind: .mainReturn, exitStatus: 0, userCPUNanoseconds: 0, systemCPUNanoseconds: 0)]
        t.threads = [ThreadInfo(index: 0, process: 0, tid: 10, name: "python3", creator: nil, startNanoseconds: 0,
                                endNanoseconds: 330_000, endKind: .processEnded, cpuNanoseconds: nil)]
        var workers: [[TraceEvent]] = (1...3).map { w in
            [.init(time: 195_000, thread: w, kind: .threadStart(creator: 0)), .init(time: 200_000, thread: w, kind: .lockWait(lock: 0, flags: []))]
        }
        var clock: UInt64 = 200_000
        for r in 0..<9 {
            let w = 1 + r % 3
            let end = clock + (w == 1 ? 20_000 : 10_000)
            workers[w - 1].append(.init(time: clock, thread: w, kind: .lockAcquired(lock: 0, flags: [])))
            workers[w - 1].append(.init(time: end, thread: w, kind: .lockRelease(lock: 0, flags: [])))
            if r + 3 < 9 {
                workers[w - 1].append(.init(time: end, thread: w, kind: .lockWait(lock: 0, flags: [])))
            } else {
                workers[w - 1].append(.init(time: end, thread: w, kind: .threadEnd(kind: .returned, cpuNanoseconds: 0)))
                t.threads.append(ThreadInfo(index: w, process: 0, tid: Int32(10 + w), name: "worker", creator: 0, startNanoseconds: 195_000,
                                            endNanoseconds: end, endKind: .returned, cpuNanoseconds: nil))
            }
            clock = end
        }
        t.threads.sort { $0.index < $1.index }
        let main: [TraceEvent] = [.init(time: 0, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                                  .init(time: 200_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
                                  .init(time: clock, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                                  .init(time: 330_000, thread: 0, kind: .processExit(kind: .mainReturn, status: 0))]
        t.locks = [LockInfo(index: 0, process: 0, address: 0x7000, kind: .gil)]
        t.gils = [GILInfo(process: 0, lock: 0, versionHex: 0x030b07f0, status: [.byLayout, .byPattern], address: 0x7000,
                          runtimeAddress: 0x6000, switchNumber: 10, intervalMicroseconds: 10)]
        let analysis = try Self.analyze((t, [main] + workers))
        let gil = try #require(analysis.gil.first)
        #expect(gil.averageWaiters > 1 && gil.averageWaiters <= 2, "\(gil.averageWaiters)")
        let verdict = analysis.verdict.joined(separator: " ")
        #expect(verdict.hasPrefix("CPU-bound Python under the GIL: 3 threads of process"), "\(verdict)")
    }

    @Test func mostlyFreeGILVerdict() throws {
        var (t, _) = Self.alternatingTrace()
        t.gils[0].switchNumber = 2
        // Two short holds in a long life: the GIL is mostly free.
        let main: [TraceEvent] = [.init(time: 0, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
                                  .init(time: 1_000, thread: 0, kind: .lockRelease(lock: 0, flags: []))]
        let worker: [TraceEvent] = [.init(time: 6_000, thread: 1, kind: .lockWait(lock: 0, flags: [])),
                                    .init(time: 6_100, thread: 1, kind: .lockAcquired(lock: 0, flags: [])),
                                    .init(time: 7_000, thread: 1, kind: .lockRelease(lock: 0, flags: []))]
        let analysis = try Self.analyze((t, [main, worker]))
        let gil = try #require(analysis.gil.first)
        #expect(gil.contendedAcquisitions == 0, "the GIL was free when the worker asked for it")
        #expect(analysis.verdict.joined().contains("The GIL was mostly free"))
        #expect(analysis.limit?.kind == "waiting")
    }
}
