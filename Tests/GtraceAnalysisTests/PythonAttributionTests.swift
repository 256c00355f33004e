import Foundation
import Testing
@testable import GtraceAnalysis
@testable import GtraceFormat

/// Python code at the GIL on a synthetic schedule whose answer is known.
@Suite struct PythonAttributionTests {
    /// Thread 1 holds the GIL [500, 1_500) in `sleeper` and releases at line 16,
    /// sleeps (nanosleep), waits [4_000, 10_500) and acquires at 10_500.
    /// Thread 0 holds it [2_000, 10_000): acquires in `spin` line 5, thread 1's
    /// samples show `spin` at 3_000 and `other` at 6_000 and 8_000, it releases in
    /// `other` at 10_000.
    static func trace() -> (TraceTables, [[TraceEvent]]) {
        var (t, _) = GILAnalysisTests.alternatingTrace(rounds: 1)
        t.gils[0].switchNumber = nil
        t.pythonCodes = [
            PythonCode(index: 0, process: 0, address: 0x100, qualifiedName: "spin", file: "/x/app.py", firstLine: 3),
            PythonCode(index: 1, process: 0, address: 0x200, qualifiedName: "Worker.other", file: "/x/app.py", firstLine: 9),
            PythonCode(index: 2, process: 0, address: 0x300, qualifiedName: "sleeper", file: "/x/app.py", firstLine: 14),
        ]
        let spin: PythonStack = [PythonFrame(code: 0, line: 5)], other: PythonStack = [PythonFrame(code: 1, line: 10)]
        let sleeper: PythonStack = [PythonFrame(code: 2, line: 16)]
        let main: [TraceEvent] = [
            .init(time: 2_000, thread: 0, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 2_000, thread: 0, kind: .pythonLocation(frames: spin)),
            .init(time: 10_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 10_000, thread: 0, kind: .pythonLocation(frames: other)),
        ]
        let worker: [TraceEvent] = [
            .init(time: 500, thread: 1, kind: .threadStart(creator: 0)),
            .init(time: 500, thread: 1, kind: .lockAcquire(lock: 0, flags: [])),
            .init(time: 500, thread: 1, kind: .pythonLocation(frames: sleeper)),
            .init(time: 1_500, thread: 1, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 1_500, thread: 1, kind: .pythonLocation(frames: sleeper)),
            .init(time: 1_600, thread: 1, kind: .blockBegin(call: BlockingCall(rawValue: 1), small: 0, argument: 1000)),
            .init(time: 3_000, thread: 1, kind: .pythonSample(lock: 0, frames: spin)),
            .init(time: 3_900, thread: 1, kind: .blockEnd(call: BlockingCall(rawValue: 1), result: 0, detail: 0)),
            .init(time: 4_000, thread: 1, kind: .lockWait(lock: 0, flags: [])),
            .init(time: 6_000, thread: 1, kind: .pythonSample(lock: 0, frames: other)),
            .init(time: 8_000, thread: 1, kind: .pythonSample(lock: 0, frames: other)),
            .init(time: 10_500, thread: 1, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 10_500, thread: 1, kind: .pythonLocation(frames: sleeper)),
            .init(time: 12_000, thread: 1, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 12_000, thread: 1, kind: .pythonLocation(frames: sleeper)),
        ]
        return (t, [main, worker])
    }

    @Test func holdsAreSplitAtMidpointsWaitsGoToTheReleaseLineHandOffsToPairs() throws {
        let analysis = try GILAnalysisTests.analyze(Self.trace())
        let p = try #require(analysis.gil.first?.pythonCode)
        let byName = Dictionary(uniqueKeysWithValues: p.functions.map { ($0.function, $0) })
        // Thread 0's hold [2_000, 10_000): spin owns [2_000, 4_500) (midpoint of 3_000 and 6_000), other the rest.
        #expect(byName["spin (app.py:3)"]?.selfNanoseconds == 2_500)
        #expect(byName["Worker.other (app.py:9)"]?.selfNanoseconds == 5_500)
        // Thread 1's holds [500, 1_500) and [10_500, 12_000): sleeper.
        #expect(byName["sleeper (app.py:14)"]?.selfNanoseconds == 2_500)
        #expect(p.holdNanoseconds == 10_500)
        // The wait [4_000, 10_500) belongs to the line thread 1 released at, after its nanosleep.
        let site = try #require(p.waitSites.first)
        #expect(site.site == "app.py:16 in sleeper (after nanosleep)")
        #expect(site.waits == 1 && site.waitNanoseconds == 6_500)
        // Hand-offs: sleeper → spin at 2_000, other → sleeper at 10_500 (500 ns after each release).
        let handOff = try #require(p.handOffs.first { $0.from == "Worker.other (app.py:9)" })
        #expect(handOff.to == "sleeper (app.py:14)" && handOff.count == 1 && handOff.latencyNanoseconds == 500)
        let first = try #require(p.handOffs.first { $0.from == "sleeper (app.py:14)" })
        #expect(first.to == "spin (app.py:3)" && first.count == 1 && first.latencyNanoseconds == 500)
        #expect(p.samples == 3)
    }

    /// A hold nobody waited for ends where its thread chose to block, not at a sample:
    /// a pool worker takes the GIL in `recv` (its task) and drops it in `send` (its
    /// result), and the task's code is at neither end. The hold [1_000, 9_000) goes to
    /// `worker`, the function on both stacks; the next, [10_000, 14_000), whose two
    /// stacks share nothing, is unlocated; neither end's function gets any of it.
    @Test func anUncontendedHoldBetweenTwoFunctionsGoesToTheirCommonCaller() throws {
        var (t, _) = Self.trace()
        t.pythonCodes.append(PythonCode(index: 3, process: 0, address: 0x400, qualifiedName: "worker", file: "/x/pool.py", firstLine: 20))
        let recv: PythonStack = [PythonFrame(code: 0, line: 5), PythonFrame(code: 3, line: 22)]
        let send: PythonStack = [PythonFrame(code: 1, line: 10), PythonFrame(code: 3, line: 24)]
        let alone: PythonStack = [PythonFrame(code: 2, line: 16)]
        let events: [TraceEvent] = [
            .init(time: 1_000, thread: 0, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 1_000, thread: 0, kind: .pythonLocation(frames: recv)),
            .init(time: 9_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 9_000, thread: 0, kind: .pythonLocation(frames: send)),
            .init(time: 10_000, thread: 0, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 10_000, thread: 0, kind: .pythonLocation(frames: recv)),
            .init(time: 14_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 14_000, thread: 0, kind: .pythonLocation(frames: alone)),
        ]
        let analysis = try GILAnalysisTests.analyze((t, [events, []]))
        let p = try #require(analysis.gil.first?.pythonCode)
        let byName = Dictionary(uniqueKeysWithValues: p.functions.map { ($0.function, $0) })
        #expect(byName["worker (pool.py:20) or code it called (not located further)"]?.selfNanoseconds == 8_000, "\(byName.keys)")
        #expect(byName["worker (pool.py:20)"]?.totalNanoseconds == 8_000)
        #expect(byName["(unlocated: between two recorded locations in different code)"]?.selfNanoseconds == 4_000)
        #expect((byName["spin (app.py:3)"]?.selfNanoseconds ?? 0) == 0 && (byName["Worker.other (app.py:9)"]?.selfNanoseconds ?? 0) == 0)
        // The hold between code with nothing in common is not located (the header's share says so).
        #expect(p.holdNanoseconds == 12_000 && p.locatedHoldNanoseconds == 8_000)
    }

    /// A function on both stacks is one call of it only if its callers stand at the same
    /// lines. A multiprocessing proxy takes the GIL back in `_callmethod` after `recv`
    /// (line 822) and drops it in the next call's `send` (line 821): with no caller recorded,
    /// the line going back says it returned and was called again (its caller's code ran in
    /// between). Callers at different lines are different calls: no common code. Callers
    /// at the same lines and a line that goes forward: one call.
    @Test func aFunctionAtBothEndsIsOneCallOnlyIfItsCallersAgree() throws {
        var (t, _) = Self.trace()
        t.pythonCodes.append(PythonCode(index: 3, process: 0, address: 0x400, qualifiedName: "BaseProxy._callmethod", file: "/x/managers.py", firstLine: 809))
        t.pythonCodes.append(PythonCode(index: 4, process: 0, address: 0x500, qualifiedName: "worker", file: "/x/app.py", firstLine: 30))
        func stack(_ frames: (Int, UInt32)...) -> PythonStack { PythonStack(frames.map { PythonFrame(code: $0.0, line: $0.1) }) }
        // [start, end): (acquired at, released at)
        let holds: [(UInt64, UInt64, PythonStack, PythonStack)] = [
            (1_000, 9_000, stack((0, 5), (3, 822)), stack((1, 10), (3, 821))),
            (10_000, 14_000, stack((0, 5), (3, 822), (4, 31)), stack((1, 10), (3, 821), (4, 33))),
            (15_000, 17_000, stack((0, 5), (3, 822), (4, 33)), stack((1, 10), (3, 825), (4, 33))),
        ]
        var events: [TraceEvent] = []
        for (start, end, acquired, released) in holds {
            events += [
                .init(time: start, thread: 0, kind: .lockAcquired(lock: 0, flags: [])),
                .init(time: start, thread: 0, kind: .pythonLocation(frames: acquired)),
                .init(time: end, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
                .init(time: end, thread: 0, kind: .pythonLocation(frames: released)),
            ]
        }
        let analysis = try GILAnalysisTests.analyze((t, [events, []]))
        let p = try #require(analysis.gil.first?.pythonCode)
        let byName = Dictionary(uniqueKeysWithValues: p.functions.map { ($0.function, $0) })
        #expect(byName["(unlocated: between two calls of BaseProxy._callmethod (managers.py:809), or a loop in it)"]?.selfNanoseconds == 8_000, "\(byName.keys)")
        #expect(byName["worker (app.py:30) or code it called (not located further)"]?.selfNanoseconds == 4_000)
        #expect(byName["BaseProxy._callmethod (managers.py:809) or code it called (not located further)"]?.selfNanoseconds == 2_000)
        #expect(p.holdNanoseconds == 14_000 && p.locatedHoldNanoseconds == 6_000)
    }

    /// A main thread that exits holding its GIL (the interpreter's finalisation) ends its
    /// hold there, not at the end of the trace: a multiprocessing manager's server got
    /// 10 ms of `rmtree` after its exit.
    @Test func aHoldEndsWhenItsThreadEnds() throws {
        var (t, _) = Self.trace()
        t.pythonCodes.append(PythonCode(index: 3, process: 0, address: 0x400, qualifiedName: "rmtree", file: "/x/shutil.py", firstLine: 690))
        let events: [TraceEvent] = [
            .init(time: 1_000, thread: 0, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 1_000, thread: 0, kind: .pythonLocation(frames: [PythonFrame(code: 3, line: 736)])),
            .init(time: 1_500, thread: 0, kind: .processExit(kind: .exitCall, status: 0)),
            .init(time: 1_500, thread: 0, kind: .threadEnd(kind: .processEnded, cpuNanoseconds: 0)),
        ]
        // The trace goes on for 9 ms after the exit.
        let later: [TraceEvent] = [.init(time: 9_000_000, thread: 1, kind: .threadStart(creator: 0))]
        let analysis = try GILAnalysisTests.analyze((t, [events, later]))
        let p = try #require(analysis.gil.first?.pythonCode)
        #expect(p.functions.first { $0.function == "rmtree (shutil.py:690)" }?.selfNanoseconds == 500, "\(p.functions)")
        #expect(p.holdNanoseconds == 500)
    }

    @Test func locationsAndCodesSurviveTheFile() throws {
        let trace = Self.trace()
        let path = NSTemporaryDirectory() + "gtrace-py-\(UUID().uuidString).data"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try TraceFileWriter.write(path: path, tables: trace.0, eventsByThread: trace.1)
        let file = try TraceFile(path: path)
        #expect(file.tables.pythonCodes == trace.0.pythonCodes)
        var stream = file.events()
        var python: [EventKind] = []
        while let e = stream.next() {
            switch e.kind {
            case .pythonLocation, .pythonSample: python.append(e.kind)
            default: break
            }
        }
        let expected = (trace.1[0] + trace.1[1]).filter {
            switch $0.kind {
            case .pythonLocation, .pythonSample: return true
            default: return false
            }
        }
        #expect(python.count == expected.count)
        #expect(python.contains(.pythonSample(lock: 0, frames: [PythonFrame(code: 1, line: 10)])))
    }

    /// A thread that takes the GIL back after a blocking call and lets it go for the next
    /// one: a hold between two releases at the same line is not credited to the function
    /// there (a queue consumer's Condition.wait); one between two lines of the same function
    /// goes to it "or code it called" (a server between recv and sendall), not to its self time.
    @Test func holdsBetweenTwoChosenReleasesAreNotCreditedToTheFunctionAtTheirEnds() throws {
        var (t, _) = GILAnalysisTests.alternatingTrace(rounds: 1)
        t.gils[0].switchNumber = nil
        t.pythonCodes = [PythonCode(index: 0, process: 0, address: 0x100, qualifiedName: "serve", file: "/x/app.py", firstLine: 5)]
        let recv: PythonStack = [PythonFrame(code: 0, line: 8)], send: PythonStack = [PythonFrame(code: 0, line: 11)]
        let sleep = BlockingCall(rawValue: 1)
        var worker: [TraceEvent] = [.init(time: 0, thread: 1, kind: .threadStart(creator: 0))]
        // Holds [100, 200) (the thread's first: its start is not a release), [310, 1_310) from
        // line 8 to line 8, [1_410, 2_410) from line 8 to line 11, [2_510, 2_600) (the last:
        // how it ended is not known).
        for (start, end, last) in [(100, 200, recv), (310, 1_310, recv), (1_410, 2_410, send), (2_510, 2_600, recv)] {
            worker += [
                .init(time: UInt64(start), thread: 1, kind: .lockAcquire(lock: 0, flags: [])),
                .init(time: UInt64(start), thread: 1, kind: .pythonLocation(frames: recv)),
                .init(time: UInt64(end), thread: 1, kind: .lockRelease(lock: 0, flags: [])),
                .init(time: UInt64(end), thread: 1, kind: .pythonLocation(frames: last)),
            ]
            if end < 2_600 {
                worker += [
                    .init(time: UInt64(end + 10), thread: 1, kind: .blockBegin(call: sleep, small: 0, argument: 0)),
                    .init(time: UInt64(end + 90), thread: 1, kind: .blockEnd(call: sleep, result: 0, detail: 0)),
                ]
            }
        }
        let analysis = try GILAnalysisTests.analyze((t, [[], worker]))
        let p = try #require(analysis.gil.first?.pythonCode)
        let byName = Dictionary(uniqueKeysWithValues: p.functions.map { ($0.function, $0) })
        #expect(byName["(unlocated: between two GIL releases at app.py:8 in serve)"]?.selfNanoseconds == 1_000)
        #expect(byName["serve (app.py:5) or code it called (not located further)"]?.selfNanoseconds == 1_000)
        // The first and the last hold keep the midpoint rule: serve's own time.
        #expect(byName["serve (app.py:5)"]?.selfNanoseconds == 190)
        #expect(p.holdNanoseconds == 2_190 && p.locatedHoldNanoseconds == 1_190)
    }
}
