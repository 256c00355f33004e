import Foundation
import Testing

/// Parallelism, the Amdahl bound and the replay's predictions against runs
/// measured in the same test.
@Suite(.serialized) struct ParallelismTests {
    typealias S = SchedulingTests
    static let python = "/usr/bin/python3"

    static func parallelism(_ report: [String: Any]) -> [String: Any] { report["parallelism"] as? [String: Any] ?? [:] }

    static func prediction(_ p: [String: Any], _ scenario: String, cores: Int) -> Double {
        let list = p["predictions"] as? [[String: Any]] ?? []
        return S.number(list.first { ($0["scenario"] as? String ?? "").hasPrefix(scenario) && ($0["cores"] as? Int) == cores }?["wallNanoseconds"])
    }

    /// `… wall_ns N` as printed by serial_fraction.
    static func wallNanoseconds(_ stdout: String) -> Double {
        let words = stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let i = words.firstIndex(of: "wall_ns"), i + 1 < words.count else { return -1 }
        return Double(words[i + 1]) ?? -1
    }

    @Test func knownSerialFractionGivesAmdahlAndReplayMatchesMeasuredRuns() throws {
        guard S.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("serial_fraction", in: dir)
        let arguments = ["2", "150", "1000", "0.25"]  // 2 threads × 150 × 1 ms, a quarter under one mutex
        try Remeasure.upTo(3, "serial fraction") { timing in
            let oneCore = try Harness.run("/usr/bin/taskset", ["-c", "0", workload] + arguments)
            let twoCores = try Harness.run(workload, arguments)
            let trace = "\(dir)/t.data"
            // perf counts the hypervisor's steal as on-CPU time: a disturbed recording is redone,
            // and what remains stolen is allowed (ci13 saw CPU ÷ held 4.84 and every prediction 19%
            // above the untraced runs in one recording).
            let (recorded, stolenSeconds) = try Steal.quietest { try Harness.gtrace(["record", "-o", trace, "--", workload] + arguments) }
            let stolen = stolenSeconds * 1e9
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let p = Self.parallelism(try Harness.reportJSON(trace))
            // A quarter of the work is inside the mutex (1/f = 4), but the threads only
            // serialise while one waits: serialised work ≤ held time, and the bound of
            // the run is at most CPU ÷ critical path (two threads: at most ~2).
            let serialised = p["serialised"] as? [String: Any] ?? [:]
            let cpu = S.number(p["cpuNanoseconds"])
            let held = S.number(serialised["heldNanoseconds"])
            timing.expect(abs(cpu / held - 4) <= 0.4 + 4 * stolen / held, "CPU ÷ held time of the mutex \(cpu / held), 1/f = 4, stolen \(stolen / 1e6) ms")
            #expect(S.number(serialised["nanoseconds"]) <= held)
            let bound = S.number((p["bound"] as? [String: Any])?["value"])
            let pathLength = S.number((p["criticalPath"] as? [String: Any])?["lengthNanoseconds"])
            #expect(bound >= 1 && bound >= S.number(p["averageParallelism"]) - 1e-9, "bound \(bound)")
            #expect(bound <= max(1, S.number(p["averageParallelism"]), cpu / pathLength) + 1e-9, "bound \(bound), CPU ÷ critical path \(cpu / pathLength)")
            let measuredOne = Self.wallNanoseconds(oneCore.stdout), measuredTwo = Self.wallNanoseconds(twoCores.stdout)
            let predictedOne = Self.prediction(p, "as recorded", cores: 1), predictedTwo = Self.prediction(p, "as recorded", cores: 2)
            timing.expect(abs(predictedOne - measuredOne) <= 0.15 * measuredOne + stolen, "1 core: predicted \(predictedOne), measured \(measuredOne), stolen \(stolen)")
            timing.expect(abs(predictedTwo - measuredTwo) <= 0.15 * measuredTwo + stolen, "2 cores: predicted \(predictedTwo), measured \(measuredTwo), stolen \(stolen)")
            // The critical path (unlimited cores) is at least one thread's own work
            // (150 × 1 ms) and about no longer than the 2-core replay: with other core
            // counts the mutex can change hands in another order (a list-scheduling
            // anomaly), and ci17 saw the path 0.28% longer (156.31 against 155.88 ms).
            let path = p["criticalPath"] as? [String: Any] ?? [:]
            let length = S.number(path["lengthNanoseconds"])
            #expect(length >= 0.95 * 150e6 && length <= predictedTwo * 1.01, "critical path \(length), 2-core replay \(predictedTwo)")
        }
    }

    @Test func utilisationHistogramSumsToWallAndWeighsToCPU() throws {
        guard S.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("serial_fraction", in: dir)
        let trace = "\(dir)/t.data"
        try Remeasure.upTo(3, "utilisation of three busy threads") { timing in
            #expect(try Harness.gtrace(["record", "-o", trace, "--", workload, "3", "60", "1000", "0.1"]).status == 0)
            let p = Self.parallelism(try Harness.reportJSON(trace))
            let levels = p["utilisation"] as? [[String: Any]] ?? []
            let wall = S.number(p["wallNanoseconds"]), cpu = S.number(p["cpuNanoseconds"])
            let sum = levels.reduce(0.0) { $0 + S.number($1["nanoseconds"]) }
            let weighted = levels.reduce(0.0) { $0 + S.number($1["threadsOnCPU"]) * S.number($1["nanoseconds"]) }
            #expect(sum == wall, "levels sum \(sum), wall \(wall)")
            #expect(abs(weighted - cpu) <= 0.01 * cpu, "CPU-weighted \(weighted), on-CPU total \(cpu)")
            #expect(levels.count >= 3, "three threads on two cores: levels 0, 1 and 2 at least")
            // The process's own histogram covers its lifetime.
            let process = try #require(S.processes(try Harness.reportJSON(trace)).first)
            let own = (process["utilisationLevels"] as? [[String: Any]] ?? []).reduce(0.0) { $0 + S.number($1["nanoseconds"]) }
            #expect(own == S.number(process["lifetimeNanoseconds"]))
            timing.expect(S.number(process["averageParallelism"]) > 1.5, "three busy threads on two cores: parallelism \(S.number(process["averageParallelism"]))")
        }
    }

    @Test func comparingRunsGivesOneColumnPerTrace() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(Harness.packageRoot)/tools/workloads/seed6_fibo.py"
        let traces = ["serial", "threads", "processes"].map { "\(dir)/\($0).data" }
        try Remeasure.upTo(3, "comparing seed 6's runs") { timing in
            for (mode, trace) in zip(["serial", "threads", "processes"], traces) {
                #expect(try Harness.gtrace(["record", "-o", trace, "--", Self.python, path, mode, "--workers", "4", "--size", "32"]).status == 0)
            }
            let result = try Harness.gtrace(["report", "--json"] + traces)
            let object = try #require(try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any])
            let runs = try #require((object["comparison"] as? [String: Any])?["runs"] as? [[String: Any]])
            #expect(runs.count == 3)
            #expect(S.number(runs[0]["speedup"]) == 1)
            #expect(runs.map { $0["workers"] as? Int ?? 0 } == [1, 4, 4])
            for run in runs.dropFirst() {
                let speedup = S.number(run["speedup"]), workers = S.number(run["workers"])
                #expect(abs(S.number(run["efficiency"]) - speedup / workers) < 1e-9)
                let karpFlatt = (1 / speedup - 1 / workers) / (1 - 1 / workers)
                #expect(abs(S.number(run["karpFlattSerialFraction"]) - karpFlatt) < 1e-9)
            }
            // Each speedup is the first run's wall time ÷ its own, as each trace's report says.
            let walls = try traces.map { S.number((try Harness.reportJSON($0)["summary"] as? [String: Any])?["wallNanoseconds"]) }
            for (run, wall) in zip(runs, walls) {
                #expect(abs(S.number(run["speedup"]) - walls[0] / wall) < 1e-9, "\(run["speedup"] ?? "") against \(walls[0] / wall)")
            }
            // Threads under the GIL gain nothing; processes gain from the second core (how much
            // depends on the VM: 1.32 to 1.9 seen here). A slowed serial run once made the
            // threads 1.30× faster (CI of stop 18).
            if S.perfAllowed {
                timing.expect(S.number(runs[1]["speedup"]) < 1.2, "threads \(S.number(runs[1]["speedup"]))× the serial run")
                timing.expect(S.number(runs[2]["speedup"]) > S.number(runs[1]["speedup"]),
                              "processes \(S.number(runs[2]["speedup"]))×, threads \(S.number(runs[1]["speedup"]))×")
            }
        }
        let text = try Harness.gtrace(["report"] + traces).stdout
        #expect(text.contains("run 2 is limited by the GIL"))
        #expect(text.contains("Karp–Flatt serial fraction"))
    }
}
