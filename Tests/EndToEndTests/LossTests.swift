import Foundation
import Testing

/// Events the recording lost are counted in the trace and said first, in the
/// report's verdict and its JSON (RELIABILITY.md item 7).
@Suite(.serialized) struct LossTests {
    typealias S = SchedulingTests

    /// Two threads × 1 M uncontended lock pairs under a 4 MiB budget: what was
    /// recorded plus what was counted lost is every acquisition the program made
    /// (2 events each), and the verdict opens with the loss and predicts nothing.
    /// The program then lingers 300 ms: a hold whose release was lost ends at its
    /// thread's last record, not at the end of the trace.
    @Test func theBudgetsLossIsCountedAndSaidFirst() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("lock_pairs", in: dir)
        let trace = "\(dir)/t.data"
        let threads = 2.0, pairs = 1_000_000.0
        let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", program, "2", "1000000", "300"],
                                       environment: ProcessInfo.processInfo.environment.merging(["GTRACE_MAX_MB": "4"]) { $1 })
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stderr.contains("the buffer budget (GTRACE_MAX_MB) was reached"), "\(recorded.stderr)")
        #expect(!recorded.stderr.contains("signal handler"), "the budget's loss is not blamed on signal handlers: \(recorded.stderr)")
        let report = try Harness.reportJSON(trace)
        let loss = try #require((report["summary"] as? [String: Any])?["loss"] as? [String: Any])
        let lost = S.number(loss["events"])
        let acquisitions = (report["locks"] as? [[String: Any]] ?? []).reduce(0.0) { $0 + S.number($1["acquisitions"]) }
        #expect(lost > 0.5 * 2 * threads * pairs, "most of the run was lost: \(lost) events")
        // A thread's start and name records are the only events besides the pairs.
        #expect(abs(acquisitions + lost / 2 - threads * pairs) <= 10,
                "recorded \(acquisitions) acquisitions + \(lost) lost events ÷ 2, the program made \(threads * pairs)")
        #expect(loss["fromNanoseconds"] != nil)
        // Each hold lasts well under a microsecond; one cut off by the loss and kept
        // open to the end of the trace would last the 300 ms the program lingered.
        for lock in report["locks"] as? [[String: Any]] ?? [] {
            #expect(S.number(lock["holdMaxNanoseconds"]) < 100e6, "\(lock["name"] ?? ""): longest hold \(S.number(lock["holdMaxNanoseconds"]) / 1e6) ms")
        }
        let verdict = report["verdict"] as? [String] ?? []
        let first = try #require(verdict.first)
        #expect(first.hasPrefix("gtrace lost \(Int(lost)) events of this run"), "\(first)")
        #expect(first.contains("gtrace predicts nothing"), "\(first)")
        #expect((report["parallelism"] as? [String: Any])?["whatIf"] == nil)
        // The text report opens with it too.
        let text = try Harness.gtrace(["report", trace]).stdout
        let verdictLine = text.split(separator: "\n").drop { !$0.hasPrefix("Verdict") }.dropFirst().first ?? ""
        #expect(verdictLine.contains("gtrace lost"), "\(verdictLine)")
    }

    /// Nothing lost: no loss anywhere.
    @Test func aWholeRecordingSaysNothingOfLoss() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("lock_pairs", in: dir)
        let trace = "\(dir)/t.data"
        #expect(try Harness.gtrace(["record", "-o", trace, "--", program, "2", "1000"]).status == 0)
        let report = try Harness.reportJSON(trace)
        #expect((report["summary"] as? [String: Any])?["loss"] == nil)
        #expect(!(report["verdict"] as? [String] ?? []).joined().contains("lost"))
    }
}
