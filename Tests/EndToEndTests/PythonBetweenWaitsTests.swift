import Foundation
import Testing

/// GIL holds that start and end at the same call that lets the GIL go (issue 14):
/// tools/workloads/py_between_waits.py runs heavy() and light() between two
/// `time.sleep(0)` at one line of loop(). Without samples, what ran in between is at
/// neither end: the report must not credit loop() with it. With samples, the split
/// between heavy and light must follow their own time.thread_time().
@Suite(.serialized) struct PythonBetweenWaitsTests {
    struct Workload: Decodable {
        var heavy_s: Double
        var light_s: Double
        var sleep_line: Int
    }

    static func record(_ python: PythonVersions.Interpreter, samples: Bool) throws -> (Workload, [String: Any]) {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var environment = ProcessInfo.processInfo.environment
        environment["GTRACE_PY_SAMPLES"] = samples ? "1" : nil
        let trace = "\(dir)/t.data"
        let result = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", python.path,
                                                      "\(Harness.packageRoot)/tools/workloads/py_between_waits.py", "4", "2000"],
                                     environment: environment)
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last else {
            throw Harness.HarnessError(message: "record failed (\(result.status)): \(result.stderr)")
        }
        let workload = try JSONDecoder().decode(Workload.self, from: Data(line.utf8))
        let report = try Harness.reportJSON(trace)
        let gil = try #require((report["gil"] as? [[String: Any]])?.first)
        return (workload, try #require(gil["pythonCode"] as? [String: Any]))
    }

    static func selfSeconds(_ code: [String: Any], _ prefix: String) -> Double {
        let functions = code["functions"] as? [[String: Any]] ?? []
        return functions.filter { ($0["function"] as? String ?? "").hasPrefix(prefix) }
            .reduce(0) { $0 + Double($1["selfNanoseconds"] as? UInt64 ?? 0) / 1e9 }
    }

    @Test(arguments: PythonVersions.installed)
    func withoutSamplesTheCodeBetweenTheReleasesIsNotCreditedToTheirFunction(python: PythonVersions.Interpreter) throws {
        let (workload, code) = try Self.record(python, samples: false)
        let hold = Double(code["holdNanoseconds"] as? UInt64 ?? 0) / 1e9
        let between = Self.selfSeconds(code, "(unlocated: between two GIL releases at py_between_waits.py:\(workload.sleep_line) in loop)")
        // Before: "loop (py_between_waits.py:…) 98.3%", where heavy and light ran.
        #expect(Self.selfSeconds(code, "loop ") < 0.2 * hold, "\(python): loop credited with what ran between its sleeps: \(code["functions"] ?? [])")
        #expect(between > 0.5 * hold, "\(python): \(between) s of \(hold) s between the releases at line \(workload.sleep_line)")
    }

    @Test(arguments: PythonVersions.installed)
    func samplesSplitTheHoldsBetweenTheFunctionsThatRan(python: PythonVersions.Interpreter) throws {
        // Measured: heavy within 5% on 3.11–3.15, −15% to −20% on 3.8–3.9; light (a sixth of
        // the work, ~120 of ~750 samples) mostly within 10%, but 3.11.7 (pyenv) gives light
        // +9% to +30% by hand, and once in CI heavy −57% and light +147%: a bias not explained
        // yet (issue 14 note). Such a run is recorded again once, and said; the second run
        // must hold the bounds. Before samples named the code they found, both were 0.
        var failures = try Self.checkSamples(python)
        if !failures.isEmpty {
            print("\(python): an outlier run, recorded again (issue 14): \(failures.joined(separator: "; "))")
            failures = try Self.checkSamples(python)
        }
        for failure in failures { Issue.record(Comment(rawValue: failure)) }
    }

    /// Records with samples; returns the bounds the split missed.
    static func checkSamples(_ python: PythonVersions.Interpreter) throws -> [String] {
        let (workload, code) = try record(python, samples: true)
        var failures: [String] = []
        let samples = code["samples"] as? Int ?? 0
        if samples < 200 { failures.append("\(python): \(samples) samples in a run of ~1 s of contention") }
        let heavy = selfSeconds(code, "heavy "), light = selfSeconds(code, "light ")
        if !(abs(heavy / workload.heavy_s - 1) < 0.25) { failures.append("\(python): heavy \(heavy) s against its thread_time \(workload.heavy_s) s") }
        if !(abs(light / workload.light_s - 1) < 0.6) { failures.append("\(python): light \(light) s against its thread_time \(workload.light_s) s") }
        return failures
    }
}
