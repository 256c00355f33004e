import Foundation
import Testing

/// The Chrome JSON of every sample trace, loaded into a real Perfetto UI in
/// headless Chromium by tools/viewcheck: it must import without an error and
/// show what gtrace's own report says. Screenshots go to .build/test-output/.
@Suite(.serialized) struct ViewCheckTests {
    static let outputDirectory = "\(Harness.packageRoot)/.build/test-output/viewcheck"

    @Test(arguments: ["seed1-threads", "seed3-processes", "seed7-subprocess"])
    func sampleTraceLoadsInThePerfettoUI(name: String) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: Self.outputDirectory, withIntermediateDirectories: true)
        let trace = "\(Harness.packageRoot)/traces/\(name).data"
        let json = "\(dir)/\(name).json"
        #expect(try Harness.gtrace(["report", "--chrome", json, trace]).status == 0)
        let screenshot = "\(Self.outputDirectory)/\(name).png"
        let check = try Harness.run("\(Harness.packageRoot)/tools/viewcheck", [json, "--screenshot", screenshot])
        #expect(check.status == 0, "viewcheck: \(check.stdout) \(check.stderr)")
        let ui = try #require(try JSONSerialization.jsonObject(with: check.stdoutData) as? [String: Any], "\(check.stderr)")
        #expect(ui["loaded"] as? Bool == true)
        #expect((ui["import_errors"] as? [Any])?.isEmpty == true, "\(ui["import_errors"] ?? "")")
        // Nothing dropped: the UI holds every slice, counter value and arrow of the file.
        #expect(ui["slices"] as? Int == ui["file_slices"] as? Int)
        #expect(ui["counters"] as? Int == ui["file_counters"] as? Int)
        #expect(ui["flows"] as? Int == ui["file_flows"] as? Int)
        // The same processes and threads as the report (extra tracks have tids ≥ 2^22).
        let report = try Harness.reportJSON(trace)
        let pids = Set((report["processes"] as? [[String: Any]] ?? []).compactMap { $0["pid"] as? Int })
        let tids = Set((report["threads"] as? [[String: Any]] ?? []).compactMap { $0["tid"] as? Int })
        #expect(Set(ui["processes"] as? [Int] ?? []) == pids)
        #expect(Set((ui["threads"] as? [Int] ?? []).filter { $0 < 1 << 22 }) == tids)
        #expect(FileManager.default.fileExists(atPath: screenshot))
    }
}

/// The native Perfetto protobuf export (`report --perfetto`) in the real
/// Perfetto UI: it imports with no error, every slice, counter value and
/// arrow of the file is there, every thread the scheduler records cover has
/// thread states, and the wakers the UI shows are the threads that released
/// the lock (or GIL) the woken thread acquired, posted its semaphore or wrote
/// to the pipe it read.
@Suite(.serialized) struct PerfettoViewCheckTests {
    static func check(_ file: String, screenshot: String) throws -> [String: Any] {
        try FileManager.default.createDirectory(atPath: ViewCheckTests.outputDirectory, withIntermediateDirectories: true)
        let check = try Harness.run("\(Harness.packageRoot)/tools/viewcheck", [file, "--screenshot", screenshot])
        #expect(check.status == 0, "viewcheck: \(check.stdout) \(check.stderr)")
        let ui = try #require(try JSONSerialization.jsonObject(with: check.stdoutData) as? [String: Any], "\(check.stderr)")
        #expect(ui["loaded"] as? Bool == true)
        #expect((ui["import_errors"] as? [Any])?.isEmpty == true, "\(ui["import_errors"] ?? "")")
        #expect(ui["slices"] as? Int == ui["file_slices"] as? Int)
        #expect(ui["counters"] as? Int == ui["file_counters"] as? Int)
        #expect(ui["flows"] as? Int == ui["file_flows"] as? Int)
        #expect(ui["sched_slices"] as? Int ?? 0 > 0)
        #expect((ui["bytes_per_event"] as? Double ?? 0) > 0)
        return ui
    }

    static func pairs(_ value: Any?) -> Set<[Int]> { Set((value as? [[Int]]) ?? []) }

    /// The tids with perf switch records, from the trace itself.
    static func scheduledTids(_ trace: String) throws -> Set<Int> {
        Set(try Harness.dump(trace).filter { $0.contains(" cpu-in ") || $0.contains(" cpu-out ") }.compactMap { line -> Int? in
            line.split(separator: " ").dropFirst().first?.split(separator: "/").last.flatMap { Int($0) }
        })
    }

    @Test(arguments: ["seed1-threads", "seed3-processes", "seed7-subprocess"])
    func sampleTraceLoadsWithThreadStates(name: String) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(Harness.packageRoot)/traces/\(name).data"
        let file = "\(dir)/\(name).pftrace"
        #expect(try Harness.gtrace(["report", "--perfetto", file, trace]).status == 0)
        let ui = try Self.check(file, screenshot: "\(ViewCheckTests.outputDirectory)/\(name)-perfetto.png")
        let report = try Harness.reportJSON(trace)
        let tids = Set((report["threads"] as? [[String: Any]] ?? []).compactMap { $0["tid"] as? Int })
        #expect(Set(ui["threads"] as? [Int] ?? []) == tids)
        let scheduled = try Self.scheduledTids(trace)
        #expect(!scheduled.isEmpty)
        #expect(Set(ui["thread_state_tids"] as? [Int] ?? []) == scheduled, "thread states for every thread perf saw")
        // Every waker the UI shows is one the file names (a recorded release), between two traced threads.
        let shown = Self.pairs(ui["waker_pairs"])
        #expect(shown.isSubset(of: Self.pairs(ui["file_waker_pairs"])))
        #expect(shown.allSatisfy { tids.contains($0[0]) && tids.contains($0[1]) && $0[0] != $0[1] })
        if name == "seed1-threads" { #expect(!shown.isEmpty, "GIL hand-offs between CPU-bound threads wake the waiting thread") }
    }

    /// Beyond locks: a sem_post wakes the sem_wait that got the item (sem_pc: the
    /// producer wakes the consumer), and a write to a pipe wakes its blocked
    /// reader (pipe_pingpong: parent and child wake each other).
    @Test func semaphorePostsAndPipeWritesNameTheirWaker() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sem = try Harness.buildWorkload("sem_pc", in: dir)
        let pipe = try Harness.buildWorkload("pipe_pingpong", in: dir)
        // sem_pc: the producer works 2 ms per item, the consumer 0.5 ms, so it waits for every item.
        var trace = "\(dir)/sem.data", file = "\(dir)/sem.pftrace"
        var recorded = try Harness.gtrace(["record", "-o", trace, "--", sem, "30", "2000", "500"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let producer = try #require(recorded.stdout.split(separator: "\n").first { $0.hasPrefix("producer_tid ") }
            .flatMap { Int($0.split(separator: " ")[1]) })
        #expect(try Harness.gtrace(["export", "--format", "perfetto", "-o", file, trace]).status == 0)
        var ui = try Self.check(file, screenshot: "\(ViewCheckTests.outputDirectory)/sem_pc-perfetto.png")
        var shown = Self.pairs(ui["waker_pairs"])
        #expect(shown.count == 1 && shown.first?[1] == producer && shown.first?[0] != producer,
                "UI wakers \(shown): the consumer woken by the producer \(producer)")
        // pipe_pingpong: each side's blocked read is woken by the other's write.
        trace = "\(dir)/pipe.data"
        file = "\(dir)/pipe.pftrace"
        recorded = try Harness.gtrace(["record", "-o", trace, "--", pipe, "30", "1000", "1000"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let fields = recorded.stdout.split(separator: " ").map(String.init)
        let parent = try #require(fields.firstIndex(of: "parent_pid").flatMap { Int(fields[$0 + 1]) })
        let child = try #require(fields.firstIndex(of: "child_pid").flatMap { Int(fields[$0 + 1]) })
        #expect(try Harness.gtrace(["export", "--format", "perfetto", "-o", file, trace]).status == 0)
        ui = try Self.check(file, screenshot: "\(ViewCheckTests.outputDirectory)/pipe_pingpong-perfetto.png")
        shown = Self.pairs(ui["waker_pairs"])
        #expect(shown == [[child, parent], [parent, child]], "UI wakers \(shown): parent \(parent), child \(child)")
    }

    @Test func lockHandOffsNameTheReleasingThreadAsWaker() throws {
        // lock_schedule: worker t always takes the lock right after worker t-1 (mod N) releases it.
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("lock_schedule", in: dir)
        let trace = "\(dir)/t.data", file = "\(dir)/t.pftrace"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", workload, "4", "40", "2000"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let truth = try JSONDecoder().decode(LockScheduleTests.Truth.self, from: recorded.stdoutData)
        let workers = truth.per_thread.map(\.tid)
        #expect(workers.count == 4)
        #expect(try Harness.gtrace(["export", "--format", "perfetto", "-o", file, trace]).status == 0)
        let ui = try Self.check(file, screenshot: "\(ViewCheckTests.outputDirectory)/lock_schedule-perfetto.png")
        let expected = Set(workers.indices.map { [workers[$0], workers[($0 + workers.count - 1) % workers.count]] })
        let shown = Self.pairs(ui["waker_pairs"])
        #expect(shown == expected, "UI wakers \(shown) against the schedule \(expected)")
        #expect(Set(ui["thread_state_tids"] as? [Int] ?? []).isSuperset(of: Set(workers)))
        let states = ui["thread_states"] as? [String: Int] ?? [:]
        #expect((states["S"] ?? 0) > 0 && (states["Running"] ?? 0) > 0)
    }
}
