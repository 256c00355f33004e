import Foundation
import Testing

/// A static Go binary: the runtime cannot enter it, so its goroutines' mutex and
/// scheduling happen in waits gtrace does not see. What the report says must still
/// be true against the program's own clocks (getrusage, the mutex holders' clock).
@Suite struct GoProgramTests {
    struct Run {
        var own: [String: Double]
        var report: [String: Any]
        var text: String
        var verdict: String { (report["verdict"] as? [String] ?? []).joined(separator: "\n") }
        var limit: [String: Any] { report["limit"] as? [String: Any] ?? [:] }
        var parallelism: Double { (report["parallelism"] as? [String: Any])?["averageParallelism"] as? Double ?? 0 }
        /// The program's own CPU ÷ wall.
        var ownParallelism: Double { (own["cpu_ms"] ?? 0) / max(own["wall_ms"] ?? 1, 1e-9) }
    }

    static func record(_ arguments: [String]) throws -> Run {
        let go = try #require(FutexTests.tool("go", extra: ["/usr/lib/go/bin/go"]), "go not found (tools/setup installs golang-go)")
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = "\(dir)/go_goroutines"
        let build = try Harness.run(go, ["build", "-o", program, "\(Harness.packageRoot)/tools/workloads/go_goroutines.go"],
                                    environment: ProcessInfo.processInfo.environment.merging(["CGO_ENABLED": "0"]) { $1 })
        try #require(build.status == 0, "\(build.stderr)")
        let trace = "\(dir)/t.gtrace"
        let run = try Harness.gtrace(["record", "-o", trace, "--", program] + arguments)
        try #require(run.status == 0, "\(run.stderr)")
        let own = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Double], "\(run.stdout)")
        let text = try Harness.gtrace(["report", trace])
        return Run(own: own, report: try Harness.reportJSON(trace), text: text.stdout)
    }

    /// Four goroutines of arithmetic on two cores run on two threads at once: the
    /// report's parallelism is the program's own CPU ÷ wall, and it is never "one busy
    /// thread" that left the other core idle (it was, when the busy main thread was not
    /// counted as a worker), nor a bound that ignores what it cannot see.
    @Test func goroutinesOfArithmeticRanInParallel() throws {
        let run = try Self.record(["cpu", "4"])
        #expect(abs(run.parallelism - run.ownParallelism) <= 0.1 * run.ownParallelism,
                "gtrace \(run.parallelism), the program's getrusage CPU ÷ wall \(run.ownParallelism)")
        if run.ownParallelism >= 1.6 {
            #expect(run.limit["kind"] as? String != "one busy thread", "\(run.verdict)")
            #expect(!run.verdict.contains("idled"), "\(run.verdict)")
        }
        #expect(run.verdict.contains("waits gtrace cannot see"), "\(run.verdict)")
        #expect(run.text.contains("waits gtrace cannot see stays as recorded"), "the bound keeps the unseen waits: \(run.text)")
    }

    /// Four goroutines taking turns on one sync.Mutex (held 400 of ~410 ms, by the
    /// holders' clock): one thread at a time ran, which the report may say, but not
    /// that the work "is not split": it cannot see the goroutines wait.
    @Test func goroutinesOnOneMutexAreNotCalledUnsplitWork() throws {
        let run = try Self.record(["mutex", "4", "100", "1000"])
        #expect((run.own["held_ms"] ?? 0) >= 0.8 * (run.own["wall_ms"] ?? 0), "the workload's own shape: \(run.own)")
        #expect(abs(run.parallelism - run.ownParallelism) <= 0.1 * run.ownParallelism,
                "gtrace \(run.parallelism), the program's getrusage CPU ÷ wall \(run.ownParallelism)")
        #expect(!run.verdict.contains("not split"), "\(run.verdict)")
        #expect(run.verdict.contains("waits gtrace cannot see"), "\(run.verdict)")
        #expect(run.text.contains("waits gtrace cannot see stays as recorded"), "\(run.text)")
    }
}
