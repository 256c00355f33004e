import Foundation
import Testing

/// `gtrace record` must not change what the program does: exit status, signals,
/// stdin/stdout/stderr; and events written before a crash or kill are kept.
@Suite struct PassthroughTests {
    static func record(_ arguments: [String], stdin: Data? = nil) throws -> (Harness.Result, String, String) {
        let dir = try Harness.temporaryDirectory()
        let workload = try Harness.buildWorkload("passthrough", in: dir)
        let trace = "\(dir)/t.data"
        let result = try Harness.gtrace(["record", "-o", trace, "--", workload] + arguments, stdin: stdin)
        return (result, trace, dir)
    }

    @Test(arguments: [("exit", 3, "exit"), ("return", 4, "return from main"), ("_exit", 7, "_exit")])
    func exitStatusAndHowTheProcessEnded(mode: String, code: Int, how: String) throws {
        let (result, trace, dir) = try Self.record([mode, "\(code)"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(result.status == Int32(code), "\(result.stderr)")
        let report = try Harness.reportJSON(trace)
        let processes = try #require(report["processes"] as? [[String: Any]])
        #expect(processes.count == 1)
        #expect(processes.first?["exit"] as? String == how)
        #expect(processes.first?["exitStatus"] as? Int == code)
        // 2 threads × 100 lock/unlock pairs on one mutex, all recorded.
        let locks = try #require(report["locks"] as? [[String: Any]])
        #expect(locks.map { $0["acquisitions"] as? Int ?? 0 }.reduce(0, +) >= 200)
        #expect(locks.contains { $0["acquisitions"] as? Int == 200 })
    }

    @Test func killedBySignalGives128PlusSignal() throws {
        let (result, trace, dir) = try Self.record(["signal", "SIGTERM"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(result.status == 143)
        let processes = try #require(try Harness.reportJSON(trace)["processes"] as? [[String: Any]])
        #expect(processes.first?["exit"] as? String == "killed by signal")
        #expect(processes.first?["exitStatus"] as? Int == 15)
    }

    @Test func stdinStdoutAndStderrPassThrough() throws {
        var bytes = [UInt8](repeating: 0, count: 200_000)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        let (result, _, dir) = try Self.record(["cat"], stdin: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(result.status == 0)
        #expect(result.stdoutData == Data(bytes))
        let (errResult, _, dir2) = try Self.record(["stderr"])
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        #expect(errResult.stderr.hasPrefix("passthrough: to stderr\n"))
        #expect(errResult.stdout.isEmpty)
    }

    @Test func eventsBeforeSIGKILLAreKept() throws {
        let (result, trace, dir) = try Self.record(["sigkill", "5000"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(result.status == 137)
        #expect(result.stdout == "done 5000\n")
        let lines = try Harness.dump(trace)
        #expect(lines.filter { $0.contains(" acquire #") }.count == 5000)
        #expect(lines.filter { $0.contains(" release #") }.count == 5000)
        let processes = try #require(try Harness.reportJSON(trace)["processes"] as? [[String: Any]])
        #expect(processes.first?["exit"] as? String == "killed by signal")
        #expect(processes.first?["exitStatus"] as? Int == 9)
    }

    @Test func forkedChildIsTracedWithItsOwnLocks() throws {
        let (result, trace, dir) = try Self.record(["fork"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(result.status == 5)
        let report = try Harness.reportJSON(trace)
        let processes = try #require(report["processes"] as? [[String: Any]])
        #expect(processes.count == 2)
        let parent = try #require(processes.first)
        let child = try #require(processes.last)
        #expect(child["ppid"] as? Int == parent["pid"] as? Int)
        #expect(child["exitStatus"] as? Int == 5)
        let locks = try #require(report["locks"] as? [[String: Any]])
        #expect(locks.contains { $0["pid"] as? Int == child["pid"] as? Int && $0["acquisitions"] as? Int == 10 })
        #expect(try Harness.dump(trace).contains { $0.contains("fork child=\(child["pid"] as? Int ?? -1)") })
    }

    @Test func threadNamesCreatorsAndEnds() throws {
        let (result, trace, dir) = try Self.record(["threads", "3"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(result.status == 0, "\(result.stderr)")
        let threads = try #require(try Harness.reportJSON(trace)["threads"] as? [[String: Any]])
        #expect(threads.count == 4)
        let names = Set(threads.compactMap { $0["name"] as? String })
        #expect(names.isSuperset(of: ["worker-0", "worker-1", "worker-2"]))
        #expect(threads.filter { $0["ended"] as? String == "pthread_exit" }.count == 1)
        #expect(threads.filter { $0["ended"] as? String == "returned" }.count == 2)
        #expect(threads.filter { ($0["name"] as? String)?.hasPrefix("worker-") == true }.allSatisfy { $0["acquisitions"] as? Int == 100 })
    }

    /// The command starts with the descriptors it would have untraced: none of
    /// gtrace's perf rings, its perf warm-up event (gtrace_perf_warm.c) or
    /// session files leak into it.
    @Test func theCommandInheritsNoDescriptorOfGtraces() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let listing = ["-c", "for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink \"$f\" | sed 's/:\\[[0-9]*\\]//')\"; done"]
        let traced = try Harness.gtrace(["record", "-o", "\(dir)/t.data", "--", "/bin/sh"] + listing)
        #expect(traced.status == 0, "\(traced.stderr)")
        // The test runner's own inherited descriptors vary from run to run, so
        // the listing is checked for what could be gtrace's, not against an untraced run.
        let descriptors = traced.stdout.split(separator: "\n")
        #expect(descriptors.contains("0 /dev/null"), "\(traced.stdout)")
        #expect(!descriptors.contains { $0.contains("perf_event") || $0.contains("gtrace") }, "\(traced.stdout)")
    }

    /// Threads that never allocate keep the program's one malloc heap: the
    /// runtime's thread start must not malloc or free in them (a new thread's first
    /// free() gave each of 8 threads alive at once its own arena: 9 heaps).
    @Test func threadsThatNeverAllocateGetNoMallocArenas() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("thread_arenas", in: dir)
        let untraced = try Harness.run(workload, ["8"])
        #expect(untraced.stdout == "heaps 1\n", "\(untraced.stdout)")
        let traced = try Harness.gtrace(["record", "-o", "\(dir)/t.data", "--", workload, "8"])
        #expect(traced.status == 0, "\(traced.stderr)")
        #expect(traced.stdout == untraced.stdout)
    }
}
