import Foundation
import Testing

/// A command confined to one CPU (`taskset -c 0`) whose threads feed child
/// processes through pipes (`py_pipe_children.py`: each parent write blocks on
/// the full pipe until the child has read it). The report counts the one core
/// the command could use, and the replay's prediction for two cores agrees
/// with the same program measured on two. Before: "Serial parts … on 2 cores
/// reached parallelism 0.99", and each blocked write was a fixed delay of the
/// recording, so that more cores could not help in the replay.
@Suite(.serialized) struct PipeChildrenTests {
    @Test func oneAllowedCoreIsTheCoresAndTheTwoCorePredictionMatchesTheRunOnTwo() throws {
        guard SchedulingTests.perfAllowed, ProcessInfo.processInfo.activeProcessorCount >= 2,
              FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "\(Harness.packageRoot)/tools/workloads/py_pipe_children.py"
        let python = "/usr/bin/python3"
        try Remeasure.upTo(3, "pipe children") { timing in
            let trace = "\(dir)/t.data"
            let recorded = try Harness.run("/usr/bin/taskset", ["-c", "0", Harness.gtrace, "record", "-o", trace, "--", python, script])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let p = ParallelismTests.parallelism(report)
            #expect(p["cores"] as? Int == 1, "\(p["cores"] ?? "none")")
            let summary = report["summary"] as? [String: Any] ?? [:]
            #expect(summary["onlineCPUs"] as? Int == ProcessInfo.processInfo.activeProcessorCount, "\(summary["onlineCPUs"] ?? "none")")
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            #expect(verdict.contains("could run on 1 of this machine's") && verdict.contains("on 1 core"), "\(verdict)")
            let predicted = ParallelismTests.prediction(p, "as recorded", cores: 2)
            // The same program on two CPUs, untraced, medians of three (its own wall time).
            var measured: [Double] = []
            for _ in 0..<3 {
                let run = try Harness.run("/usr/bin/taskset", ["-c", "0,1", python, script])
                #expect(run.status == 0, "\(run.stderr)")
                let data = Data((run.stdout.split(separator: "\n").last ?? "").utf8)
                let seconds = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["wall_s"] as? Double ?? 0
                measured.append(seconds * 1e9)
            }
            let median = measured.sorted()[1]
            timing.expect(predicted > 0 && abs(predicted - median) <= 0.2 * median,
                          "2 cores predicted \(predicted / 1e6) ms from a run on 1, measured \(measured.map { $0 / 1e6 }) ms")
        }
    }
}
