import Foundation
import Testing

/// The sample traces in traces/ still read, and their reports still equal the
/// expected reports kept next to them (regenerate both with tools/regenerate-traces).
@Suite struct SampleTraceTests {
    static let names = ["seed1-threads", "seed3-processes", "seed7-subprocess", "seed6-threads-3.14", "seed6-threads-3.15"]

    @Test(arguments: names)
    func reportMatchesTheExpectedReport(name: String) throws {
        let expected = try String(contentsOfFile: "\(Harness.packageRoot)/traces/\(name).report", encoding: .utf8)
        let report = try Harness.run(Harness.gtrace, ["report", "--details", "traces/\(name).data"], workingDirectory: Harness.packageRoot)
        #expect(report.status == 0, "\(report.stderr)")
        let normalized = try Harness.run("\(Harness.packageRoot)/tools/normalize-report", [], stdin: report.stdoutData)
        #expect(normalized.stdout == expected, "regenerate with tools/regenerate-traces if the change is intended")
    }

    @Test func seedTracesShowWhatTheExperimentsTeach() throws {
        let seed1 = try Harness.reportJSON("\(Harness.packageRoot)/traces/seed1-threads.data")
        let gil1 = try #require((seed1["gil"] as? [[String: Any]])?.first)
        #expect((gil1["heldRatioMultithreaded"] as? Double ?? 0) >= 0.95)
        #expect(gil1["matchesCPython"] as? Bool == true)
        let seed3 = try Harness.reportJSON("\(Harness.packageRoot)/traces/seed3-processes.data")
        #expect((seed3["gil"] as? [[String: Any]])?.count == 5, "the parent and its 4 children each have a GIL")
        let seed7 = try Harness.reportJSON("\(Harness.packageRoot)/traces/seed7-subprocess.data")
        let gil7 = try #require((seed7["gil"] as? [[String: Any]])?.first)
        #expect((gil7["heldRatioMultithreaded"] as? Double ?? 1) <= 0.20)
        #expect((seed7["processes"] as? [[String: Any]])?.count == 6, "python and its 5 sleep children")
    }

    /// The two newest CPythons: hand-offs exact against switch_number, and
    /// the code holding the GIL named (seed 6's recursive `fibo`).
    @Test(arguments: ["3.14", "3.15"])
    func newestPythonsNameTheFunctionHoldingTheGIL(version: String) throws {
        let report = try Harness.reportJSON("\(Harness.packageRoot)/traces/seed6-threads-\(version).data")
        let gil = try #require((report["gil"] as? [[String: Any]])?.first)
        #expect((gil["python"] as? String ?? "").hasPrefix(version + "."))
        #expect(gil["matchesCPython"] as? Bool == true)
        let code = try #require(gil["pythonCode"] as? [String: Any])
        let functions = try #require(code["functions"] as? [[String: Any]])
        let n = SchedulingTests.number
        let top = try #require(functions.max { n($0["selfNanoseconds"]) < n($1["selfNanoseconds"]) })
        #expect((top["function"] as? String ?? "").hasPrefix("fibo (seed6_fibo.py:"), "\(top)")
        #expect(n(top["selfNanoseconds"]) >= 0.5 * n(gil["heldNanoseconds"]), "fibo's share of the GIL's hold")
    }
}
