import Foundation
import Testing

/// "Serial parts" names the threads along the critical path (Verdict+CriticalPathThreads.swift).
/// A shell runs one program with one busy thread (300 ms), then another with two (250 ms
/// each, so that neither program is "one busy thread"): the serial part is
/// the first program's thread, and its length is that thread's own CPU clock.
@Suite(.serialized) struct CriticalPathThreadsTests {
    @Test func aSerialStepIsNamedWithItsOwnCPUTime() throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("cpu_threads", in: dir)
        let trace = "\(dir)/t.data"
        try Remeasure.upTo(3, "serial step, then two threads") { timing in
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", "/bin/sh", "-c",
                                               "\(program) 1 300 > \(dir)/serial.out; \(program) 2 250 > \(dir)/parallel.out"])
            try #require(recorded.status == 0, "\(recorded.stderr)")
            // The truth: cpu_threads prints "thread TID cpu_ns N" per thread, then "main PID …".
            let serial = try String(contentsOfFile: "\(dir)/serial.out", encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ") }
            let thread = try #require(serial.first { $0.first == "thread" && $0.count >= 4 })
            let main = try #require(serial.first { $0.first == "main" && $0.count >= 2 })
            let (tid, pid, cpu) = (String(thread[1]), String(main[1]), Double(thread[3]) ?? 0)

            let report = try Harness.reportJSON(trace)
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            let limit = report["limit"] as? [String: Any] ?? [:]
            // The path is said only when the replay fits the run (1 run of 8 by hand did not).
            let fits = (ParallelismTests.parallelism(report)["replayFit"] as? [String: Any])?["fits"] as? Bool == true
            timing.expect(limit["kind"] as? String == "serial parts" && fits, "another limit on this run, or no fit: \(verdict)")
            guard limit["kind"] as? String == "serial parts", fits else { return }
            // The path's largest piece is the serial thread, as long as its CPU clock (±10%).
            let path = ParallelismTests.parallelism(report)["criticalPath"] as? [String: Any] ?? [:]
            let largest = (path["threads"] as? [[String: Any]] ?? []).max {
                SchedulingTests.number($0["nanoseconds"]) < SchedulingTests.number($1["nanoseconds"])
            } ?? [:]
            #expect("\(largest["tid"] ?? "-")" == tid, "the path's threads: \(path)")
            let onPath = SchedulingTests.number(largest["nanoseconds"])
            timing.expect(abs(onPath - cpu) <= 0.1 * cpu, "\(onPath) ns on the path, \(cpu) ns of its own CPU time")
            #expect(verdict.contains("along thread \(tid) (cpu_threads, process \(pid)) "), "\(verdict)")
        }
    }
}
