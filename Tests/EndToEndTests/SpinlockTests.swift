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
    }
}
