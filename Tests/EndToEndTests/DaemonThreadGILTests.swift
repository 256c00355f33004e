import Foundation
import Testing

/// Daemon threads that must exit at interpreter shutdown unlock the GIL's
/// mutex while another thread holds the GIL (CPython's take_gil), then exit:
/// no acquisition. The hand-offs must stay exact against CPython's own
/// switch_number in every run (the defect showed in about 1 run in 3; 12 runs
/// miss it with probability 0.8%).
@Suite(.serialized) struct DaemonThreadGILTests {
    static let repetitions = 12

    /// 3.9+: CPython 3.8 makes such a thread drop the GIL it took, then exit
    /// (exit_thread_if_finalizing): that path is an ordinary acquisition.
    @Test(arguments: PythonVersions.installed.filter { $0.version != "3.8" })
    func daemonThreadsAtExitKeepHandOffsExact(python: PythonVersions.Interpreter) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/d.data"
        var mismatches: [String] = []
        for run in 1...Self.repetitions {
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", python.path,
                                               "\(Harness.packageRoot)/tools/workloads/daemon_io.py"])
            #expect(recorded.status == 0, "\(python) run \(run): \(recorded.stderr)")
            // The hand-offs only: no replay (it would cost more than the rest).
            let result = try Harness.gtrace(["report", "--json", "--replay-operations", "0", trace])
            #expect(result.status == 0, "\(python) run \(run): \(result.stderr)")
            let report = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any] ?? [:]
            let gils = report["gil"] as? [[String: Any]] ?? []
            let gil = try #require(gils.first, "\(python) run \(run): no GIL section")
            let handOffs = gil["handOffs"] as? Int
            let cpython = gil["cpythonHandOffs"] as? Int
            #expect(cpython != nil, "\(python) run \(run): no switch_number")
            if handOffs != cpython {
                let short = handOffs.map { h in cpython.map { h + 1 == $0 } ?? false } ?? false
                mismatches.append("run \(run): \(handOffs ?? -1) recorded vs \(cpython ?? -1)" + (short ? " (one short)" : ""))
            }
        }
        // Open defect: in ci18, one run of 3.12 recorded one hand-off fewer than CPython
        // counted (2145 against 2146), once in the ~240 runs of this test in ci14–ci18,
        // not explained yet (a thread killed by the exit while it wrote its record is the
        // suspect). One such run in 12 is allowed and printed; more, or a hand-off too
        // many (the defect this test was written for), fail.
        let oneShort = mismatches.filter { $0.hasSuffix("(one short)") }
        if !oneShort.isEmpty { print("\(python): open defect, a hand-off missed at exit: \(oneShort)") }
        #expect(mismatches.count - min(oneShort.count, 1) == 0, "\(python): \(mismatches.joined(separator: "; "))")
    }
}
