import Foundation
import Testing

/// C11 <threads.h>: glibc runs mtx_*, cnd_* and thrd_* over its pthread
/// functions, calling them inside libc where no interposer sees the call. A
/// C11 program's mutex was "waits gtrace cannot see" and its threads had no
/// creator. The C11 wrappers record them as the pthread ones: the mutex's
/// holds agree with the threads' own clocks, its waits and the condition wait
/// have the program's call sites, the threads their creator, and the program
/// gets the same results (thrd_join's int).
@Suite struct C11ThreadsTests {
    @Test func c11MutexesConditionsAndThreadsAreRecorded() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("c11_threads", in: dir)
        let trace = "\(dir)/t.data"
        let run = try Harness.gtrace(["record", "-o", trace, "--", program, "3", "100", "500"])
        try #require(run.status == 0, "\(run.stderr)")
        let own = try #require(try JSONSerialization.jsonObject(with: run.stdoutData) as? [String: Any], "\(run.stdout)")
        #expect(own["results_ok"] as? Int == 1, "thrd_join's results changed under gtrace: \(run.stdout)")
        let truth = SchedulingTests.number(own["held_ns"])

        let report = try Harness.reportJSON(trace)
        let locks = (report["locks"] as? [[String: Any]] ?? []).filter { ($0["name"] as? String)?.hasPrefix("c11_mutex") == true }
        #expect(locks.count == 1, "\(report["locks"] ?? "")")
        if let lock = locks.first {
            #expect(lock["kind"] as? String == "mutex")
            #expect((lock["acquisitions"] as? Int ?? 0) >= 303, "\(lock)")
            let held = SchedulingTests.number(lock["holdTotalNanoseconds"])
            #expect(abs(held - truth) <= 0.05 * truth + 1e6, "recorded \(held / 1e6) ms, the threads' own \(truth / 1e6) ms")
            let sites = lock["callSites"] as? [[String: Any]] ?? []
            #expect((sites.first?["site"] as? String)?.hasPrefix("worker+") == true, "\(sites)")
        }
        let conditions = report["conditions"] as? [[String: Any]] ?? []
        #expect(conditions.contains { ($0["waits"] as? Int ?? 0) >= 1
                    && (($0["callSites"] as? [[String: Any]])?.first?["site"] as? String)?.hasPrefix("main+") == true }, "\(conditions)")
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: " ")
        #expect(verdict.contains("Lock c11_mutex"), "\(verdict)")

        // Each worker has main as its creator and returned from its start routine.
        let dump = try Harness.gtrace(["dump", trace]).stdout
        let workers = dump.split(separator: "\n").filter { $0.hasPrefix("thread #") && !$0.hasPrefix("thread #0 ") }
        #expect(workers.count == 3, "\(workers)")
        for line in workers {
            #expect(line.contains("creator=0 ") && line.contains("ended=returned"), "\(line)")
        }
    }
}
