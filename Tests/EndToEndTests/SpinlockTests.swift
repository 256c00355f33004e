import Foundation
import Testing

/// Threads that take turns on a pthread spinlock: its waiters spin on a CPU,
/// so the scheduler saw every thread running and the report said the threads
/// ran in parallel ("Serial parts", parallelism 1.4–1.95) without naming any
/// lock. The spinlock is recorded: its holds agree with the threads' own
/// clocks, and the verdict names it as what serialises the work.
@Suite struct SpinlockTests {
    @Test func aSpinlockTheThreadsTakeTurnsOnIsTheVerdict() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("spin_lock", in: dir)
        let trace = "\(dir)/t.data"
        let run = try Harness.gtrace(["record", "-o", trace, "--", program, "2", "200", "500"])
        try #require(run.status == 0, "\(run.stderr)")
        let own = try #require(try JSONSerialization.jsonObject(with: run.stdoutData) as? [String: Any], "\(run.stdout)")
        let truth = SchedulingTests.number(own["held_ns"])
        let report = try Harness.reportJSON(trace)
        let locks = (report["locks"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "spinlock" }
        #expect(locks.count == 1, "\(report["locks"] ?? "")")
        if let lock = locks.first {
            #expect((lock["name"] as? String)?.hasPrefix("spin_lock_shared") == true, "\(lock)")
            #expect(lock["acquisitions"] as? Int == 400, "\(lock)")
            let held = SchedulingTests.number(lock["holdTotalNanoseconds"])
            #expect(abs(held - truth) <= 0.05 * truth + 1e6, "recorded \(held / 1e6) ms, the threads' own \(truth / 1e6) ms")
        }
        let limit = report["limit"] as? [String: Any] ?? [:]
        #expect(limit["kind"] as? String == "lock", "\(report["verdict"] ?? "")")
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: " ")
        #expect(verdict.contains("Lock spin_lock_shared") && verdict.contains("It is a spinlock"), "\(verdict)")

        // The spinning is measured (the threads' own CPU clocks around pthread_spin_lock) and is
        // not work: 200 rounds of 500 µs inside and 100 µs outside can run at most
        // (held + outside) / held ≈ 1.2× in parallel. Counting the spinning as work gave
        // "at most 1.98" and 40% of the work serialised.
        let parallelism = report["parallelism"] as? [String: Any] ?? [:]
        let spun = SchedulingTests.number(own["spun_ns"])
        let spinning = SchedulingTests.number(parallelism["spinningNanoseconds"])
        #expect(abs(spinning - spun) <= 0.1 * spun + 2e6, "spinning \(spinning / 1e6) ms, the threads' own \(spun / 1e6) ms")
        let outside = 400 * 100_000.0
        let bestParallelism = (truth + outside) / truth
        let bound = SchedulingTests.number((parallelism["bound"] as? [String: Any])?["value"])
        #expect(bound > 0 && bound <= bestParallelism * 1.15, "at most \(bound), the work allows \(bestParallelism)")
    }
}
