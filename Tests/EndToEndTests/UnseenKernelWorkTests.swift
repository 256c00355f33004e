import Foundation
import Testing

/// Rule 6a (Verdict+UnseenKernelWork.swift): threads that keep the cores busy mostly
/// in the kernel, doing what gtrace cannot see. A static C program's 4 threads on one
/// pthread mutex were "Limited by the cores: … the threads ran in parallel", while one
/// core ran the program 3–4× faster (tools/workloads/kernel_threads.c).
@Suite(.serialized) struct UnseenKernelWorkTests {
    @Test func aStaticProgramsThreadsContendingInTheKernelAreNotSaidToRunInParallel() throws {
        try #require(ProcessInfo.processInfo.activeProcessorCount >= 2, "needs 2 cores")
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("kernel_threads", in: dir, extraFlags: ["-static"])
        let arguments = ["mutex", "4", "200000"]

        // The truth, untraced: the cores do not limit it; one core runs it faster (by hand
        // 0.05 s against 0.15–0.21 s).
        try Remeasure.upTo(3, "static mutex threads on one core and on two") { timing in
            let (one, all) = try Harness.oneCoreAgainstAll([program] + arguments)
            timing.expect(one <= 0.7 * all, "one core \(one) s, two cores \(all) s")
        }

        let trace = "\(dir)/t.data"
        for attempt in 1...3 {
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", program] + arguments)
            try #require(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let limit = report["limit"] as? [String: Any] ?? [:]
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: " ")
            #expect(limit["kind"] as? String != "cores" && !verdict.contains("ran in parallel"), "attempt \(attempt): \(verdict)")

            // When the run kept the cores busy (in some it did not: parallelism 1.49–1.57), the
            // rule says what it cannot tell, and how to measure, whatever the kernel's share:
            // 34–60% of the CPU time in 15 runs by hand, the rest the lock's and the counter's
            // cache lines moving between the CPUs.
            let parallelism = SchedulingTests.number((report["parallelism"] as? [String: Any])?["averageParallelism"])
            let pid = Int(SchedulingTests.number((report["processes"] as? [[String: Any]])?.first?["pid"]))
            if parallelism >= 1.6 {
                #expect(limit["kind"] as? String == "kernel and unseen waits", "attempt \(attempt): \(verdict)")
                #expect(verdict.contains("process \(pid), which used most of the CPU time, is static or setuid")
                        && verdict.contains("whether they ran side by side is not known") && verdict.contains("`taskset -c 0`"),
                        "attempt \(attempt): \(verdict)")
                return
            }
        }
    }

    /// The rule stays out of a program whose system calls gtrace sees: the same threads
    /// making system calls of their own, dynamically linked, do run in parallel.
    @Test func threadsMakingTheirOwnSystemCallsInParallelAreLimitedByTheCores() throws {
        try #require(ProcessInfo.processInfo.activeProcessorCount >= 2, "needs 2 cores")
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("kernel_threads", in: dir)
        let arguments = ["syscalls", "2", "1000000"]
        // By hand: 0.17–0.21 s on two cores, 0.33 s on one.
        try Remeasure.upTo(3, "system-call threads on one core and on two") { timing in
            let (one, all) = try Harness.oneCoreAgainstAll([program] + arguments)
            timing.expect(one >= 1.3 * all, "one core \(one) s, two cores \(all) s")
        }
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", program] + arguments)
        try #require(recorded.status == 0, "\(recorded.stderr)")
        let report = try Harness.reportJSON(trace)
        let limit = report["limit"] as? [String: Any] ?? [:]
        let verdict = (report["verdict"] as? [String] ?? []).first ?? ""
        let parallelism = SchedulingTests.number((report["parallelism"] as? [String: Any])?["averageParallelism"])
        #expect(limit["kind"] as? String != "kernel and unseen waits", "\(verdict)")
        if parallelism >= 1.6 { #expect(limit["kind"] as? String == "cores", "\(verdict)") }
    }
}
