import Foundation
import Testing
@testable import GtraceAnalysis
@testable import GtraceExport
@testable import GtraceFormat

@Suite struct ChromeTraceWriterTests {
    /// One thread takes A then B, releases A then B (a partial overlap), then waits for A.
    func overlappingTrace() -> (TraceTables, [[TraceEvent]]) {
        var t = TraceTables()
        t.strings = ["worker </script>"]
        t.processes = [ProcessInfo(index: 0, pid: 77, ppid: 1, parent: nil, image: 0, executable: "/x",
                                   arguments: ["x", "<img src=x onerror=alert(1)>"], startNanoseconds: 0,
                                   endNanoseconds: 100_000, exitKind: .mainReturn, exitStatus: 0,
                                   userCPUNanoseconds: 0, systemCPUNanoseconds: 0)]
        t.threads = [ThreadInfo(index: 0, process: 0, tid: 77, name: "worker </script>", creator: nil, startNanoseconds: 0,
                                endNanoseconds: 100_000, endKind: .processEnded, cpuNanoseconds: nil)]
        t.locks = [LockInfo(index: 0, process: 0, address: 0xa0, kind: .mutex),
                   LockInfo(index: 1, process: 0, address: 0xb0, kind: .mutex)]
        let events: [TraceEvent] = [
            .init(time: 5, thread: 0, kind: .processStart),
            .init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
            .init(time: 2_000, thread: 0, kind: .lockAcquire(lock: 1, flags: [])),
            .init(time: 3_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 3_500, thread: 0, kind: .lockWait(lock: 0, flags: [])),
            .init(time: 4_000, thread: 0, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 4_500, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 5_000, thread: 0, kind: .lockRelease(lock: 1, flags: [])),
            .init(time: 90_001, thread: 0, kind: .processExit(kind: .mainReturn, status: 0)),
        ]
        return (t, [events])
    }

    func chromeJSON(_ trace: (TraceTables, [[TraceEvent]]), filter: ChromeExportFilter = .everything) throws -> [[String: Any]] {
        let path = NSTemporaryDirectory() + "gtrace-chrome-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: path + ".data")
            try? FileManager.default.removeItem(atPath: path + ".json")
        }
        _ = try TraceFileWriter.write(path: path + ".data", tables: trace.0, eventsByThread: trace.1)
        let output = try FileOutput(path: path + ".json")
        _ = try ChromeTraceWriter(file: try TraceFile(path: path + ".data"), output: output, filter: filter).write()
        try output.close()
        let data = try Data(contentsOf: URL(fileURLWithPath: path + ".json"))
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("</script>"))
        #expect(!text.contains("<img"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(root["traceEvents"] as? [[String: Any]])
    }

    @Test func slicesNestOnEveryTrackAndNothingIsLost() throws {
        let events = try chromeJSON(overlappingTrace())
        let slices = events.filter { $0["ph"] as? String == "X" }
        // holds: A, B, A again; one wait for A.
        #expect(slices.count == 4)
        #expect(slices.filter { ($0["name"] as? String)?.hasPrefix("hold") == true }.count == 3)
        #expect(slices.filter { ($0["name"] as? String)?.hasPrefix("wait") == true }.count == 1)
        #expect(Set(slices.compactMap { $0["tid"] as? Int }).count == 2, "the overlapping hold moves to a second lane")
        #expect(tracksNest(slices))
        // Sub-microsecond precision survives: the wait starts at 3.5 µs.
        let wait = try #require(slices.first { ($0["name"] as? String)?.hasPrefix("wait") == true })
        #expect(wait["ts"] as? Double == 3.5)
        #expect(wait["dur"] as? Double == 0.5)
        #expect(events.contains { $0["ph"] as? String == "M" && $0["name"] as? String == "thread_name" })
        #expect(events.filter { $0["ph"] as? String == "i" && $0["s"] as? String == "t" }.count == 2)
        // Each process that ended gets one process-scoped instant saying how.
        #expect(events.filter { $0["ph"] as? String == "i" && ($0["name"] as? String)?.hasPrefix("end: ") == true }.count == 1)
    }

    @Test func aTimeWindowCutsSlicesAtItsEdges() throws {
        // 2.5–4.2 µs: hold A (1–3 µs) and hold B (2–5 µs) are cut; the wait (3.5–4 µs) is inside.
        let events = try chromeJSON(overlappingTrace(), filter: ChromeExportFilter(from: 2_500, to: 4_200))
        let slices = events.filter { $0["ph"] as? String == "X" }
        #expect(slices.count == 4)  // hold A, hold B, the wait, the hold of A after it
        for slice in slices {
            let start = try #require(slice["ts"] as? Double), duration = try #require(slice["dur"] as? Double)
            #expect(start >= 2.5 && start + duration <= 4.2 + 1e-9, "\(slice)")
        }
        #expect(!events.contains { $0["ph"] as? String == "i" && ($0["ts"] as? Double ?? 0) > 4.2 })
    }

    @Test func pidFilterAndEventCapKeepTheFileValid() throws {
        let none = try chromeJSON(overlappingTrace(), filter: ChromeExportFilter(pids: [12345]))
        #expect(none.isEmpty)
        let capped = try chromeJSON(overlappingTrace(), filter: ChromeExportFilter(maxEvents: 3))
        #expect(capped.count == 3)
    }

    @Test func processesAreSortedInTreeOrder() {
        func process(_ index: Int, parent: Int?, start: UInt64) -> GtraceFormat.ProcessInfo {
            GtraceFormat.ProcessInfo(index: index, pid: Int32(100 + index), ppid: 1, parent: parent, image: 0, executable: "x", arguments: [],
                        startNanoseconds: start, endNanoseconds: nil, exitKind: .unknown, exitStatus: 0,
                        userCPUNanoseconds: 0, systemCPUNanoseconds: 0)
        }
        // Root 0; its children 1 (started at 10) and 3 (at 15); 2 is 1's child (at 20).
        let processes = [process(0, parent: nil, start: 0), process(1, parent: 0, start: 10),
                         process(2, parent: 1, start: 20), process(3, parent: 0, start: 15)]
        #expect(ChromeTraceWriter.treeOrder(processes) == [0, 1, 2, 3])
    }

    @Test func outputIsDeterministic() throws {
        let first = try chromeJSON(overlappingTrace())
        let second = try chromeJSON(overlappingTrace())
        #expect(NSArray(array: first).isEqual(to: second))
    }

    @Test func laneAssignmentKeepsEveryLaneNested() {
        // Randomised open/close orders: every lane must stay properly nested.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var lanes = ThreadLanes()
            var open: [(key: ThreadLanes.Key, start: Int)] = []
            var closed: [(lane: Int, start: Int, end: Int)] = []
            var time = 0
            var next = 0
            for _ in 0..<40 {
                time += 1
                if open.isEmpty || (open.count < 6 && Bool.random(using: &generator)) {
                    let key = ThreadLanes.Key(kind: 0, lock: next)
                    next += 1
                    lanes.open(key, at: UInt64(time))
                    open.append((key, time))
                } else {
                    let victim = open.remove(at: Int.random(in: 0..<open.count, using: &generator))
                    closed.append((lanes.close(victim.key), victim.start, time))
                }
            }
            for a in closed {
                for b in closed where a.lane == b.lane && a.start < b.start {
                    // b starts inside a → it must end inside a too; or b starts after a ends.
                    #expect(b.start >= a.end || b.end <= a.end)
                }
            }
        }
    }
}

/// True when the X slices of every (pid, tid) nest: no two partially overlap.
func tracksNest(_ slices: [[String: Any]]) -> Bool {
    var byTrack: [String: [(Double, Double)]] = [:]
    for s in slices {
        guard let ts = s["ts"] as? Double, let dur = s["dur"] as? Double else { return false }
        byTrack["\(s["pid"] ?? 0)/\(s["tid"] ?? 0)", default: []].append((ts, ts + dur))
    }
    for (_, list) in byTrack {
        for a in list {
            for b in list where a.0 < b.0 && b.0 < a.1 && b.1 > a.1 { return false }
        }
    }
    return true
}

@Suite struct ChromeGILTrackTests {
    /// Threads 20 and 21 of process 20 pass the GIL back and forth three times.
    func gilTrace() -> (TraceTables, [[TraceEvent]]) {
        var t = TraceTables()
        t.processes = [ProcessInfo(index: 0, pid: 20, ppid: 1, parent: nil, image: 0, executable: "/usr/bin/python3",
                                   arguments: ["python3"], startNanoseconds: 0, endNanoseconds: 50_000,
                                   exitKind: .mainReturn, exitStatus: 0, userCPUNanoseconds: 0, systemCPUNanoseconds: 0)]
        t.threads = [
            ThreadInfo(index: 0, process: 0, tid: 20, name: "MainThread", creator: nil, startNanoseconds: 0,
                       endNanoseconds: 50_000, endKind: .processEnded, cpuNanoseconds: nil),
            ThreadInfo(index: 1, process: 0, tid: 21, name: "worker", creator: 0, startNanoseconds: 100,
                       endNanoseconds: 40_000, endKind: .returned, cpuNanoseconds: nil),
        ]
        t.locks = [LockInfo(index: 0, process: 0, address: 0x9000, kind: .gil)]
        t.gils = [GILInfo(process: 0, lock: 0, versionHex: 0x030c01f0, status: [.byLayout, .byPattern], address: 0x9000,
                          runtimeAddress: 0x8000, switchNumber: 4, intervalMicroseconds: 5000)]
        let main: [TraceEvent] = [
            .init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
            .init(time: 10_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 10_500, thread: 0, kind: .lockWait(lock: 0, flags: [])),
            .init(time: 20_100, thread: 0, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 30_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
        ]
        let worker: [TraceEvent] = [
            .init(time: 2_000, thread: 1, kind: .lockWait(lock: 0, flags: [])),
            .init(time: 10_100, thread: 1, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 20_000, thread: 1, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 20_500, thread: 1, kind: .lockWait(lock: 0, flags: [])),
            .init(time: 30_100, thread: 1, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 35_000, thread: 1, kind: .lockRelease(lock: 0, flags: [])),
        ]
        return (t, [main, worker])
    }

    @Test func gilTrackHasOneSlicePerHoldNamedByHolderAndArrowsPerHandOff() throws {
        let events = try ChromeTraceWriterTests().chromeJSON(gilTrace())
        let gilTrack = 511 << 22 | 20
        let holds = events.filter { $0["ph"] as? String == "X" && $0["tid"] as? Int == gilTrack }
        #expect(holds.map { $0["name"] as? String ?? "" } == ["MainThread", "worker", "MainThread", "worker"])
        #expect(events.contains { $0["ph"] as? String == "M" && $0["tid"] as? Int == gilTrack
                                  && ($0["args"] as? [String: Any])?["name"] as? String == "GIL" })
        let waits = events.filter { $0["name"] as? String == "waiting for GIL" }
        #expect(waits.filter { $0["tid"] as? Int == 21 }.count == 2)
        #expect(waits.filter { $0["tid"] as? Int == 20 }.count == 1)
        let starts = events.filter { $0["ph"] as? String == "s" }
        let ends = events.filter { $0["ph"] as? String == "f" }
        #expect(starts.count == 3)
        #expect(ends.count == 3)
        #expect(Set(starts.compactMap { $0["id"] as? Int }) == Set(ends.compactMap { $0["id"] as? Int }))
        #expect(tracksNest(events.filter { $0["ph"] as? String == "X" }))
    }
}
