import Foundation
import Testing

/// OpenMP's threads spin at barriers before they sleep, and perf sees spinning as
/// running: an uneven OpenMP loop (`omp_imbalance.c`: 1.3× faster on 2 threads
/// than on one) reports a parallelism near 2. gtrace cannot tell spinning from
/// work, so the report must say the process runs OpenMP and that its numbers may
/// count waiting as work; with OMP_WAIT_POLICY=passive the waits are off-CPU and
/// the parallelism agrees with the measured speed-up.
@Suite(.serialized) struct SpinWaitRuntimeTests {
    static func environment(_ extra: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
    }

    /// The loops' own wall time (the workload's JSON line).
    static func ownWall(_ stdout: String) throws -> Double {
        let data = try #require(stdout.split(separator: "\n").last.map { Data($0.utf8) })
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(json["wall_s"] as? Double)
    }

    @Test func anOpenMPProcessIsSaidToSpinAndItsPassiveRunMatchesTheSpeedUp() throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("omp_imbalance", in: dir, extraFlags: ["-fopenmp"])
        try Remeasure.upTo(3, "omp_imbalance") { timing in
            // Independent truth: the same loops on one thread and on two, untraced.
            let one = try Self.ownWall(Harness.run(workload, [], environment: Self.environment(["OMP_NUM_THREADS": "1"])).stdout)
            let two = try Self.ownWall(Harness.run(workload, [], environment: Self.environment(["OMP_NUM_THREADS": "2"])).stdout)
            let speedUp = one / two

            // Default policy: the waiting thread spins; the parallelism overstates the speed-up.
            let trace = "\(dir)/spin.data"
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", workload], environment: Self.environment(["OMP_NUM_THREADS": "2"]))
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let parallelism = SchedulingTests.number(ParallelismTests.parallelism(report)["averageParallelism"])
            timing.expect(parallelism > speedUp * 1.2, "the premise: parallelism \(parallelism) against a measured speed-up of \(speedUp)")
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            #expect(verdict.contains("runs OpenMP (libgomp") && verdict.contains("may count waiting as work"), "\(verdict)")
            let uses = (report["summary"] as? [String: Any])?["spinWaitRuntimes"] as? [[String: Any]] ?? []
            #expect(uses.contains { $0["runtime"] as? String == "OpenMP" && ($0["object"] as? String)?.hasPrefix("libgomp") == true }, "\(uses)")

            // Passive policy: the waits are off-CPU, and the parallelism is the speed-up.
            let passive = "\(dir)/passive.data"
            let slept = try Harness.gtrace(["record", "-o", passive, "--", workload],
                                           environment: Self.environment(["OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "passive"]))
            #expect(slept.status == 0, "\(slept.stderr)")
            let passiveReport = try Harness.reportJSON(passive)
            let passiveParallelism = SchedulingTests.number(ParallelismTests.parallelism(passiveReport)["averageParallelism"])
            // Nothing spins under the passive policy: no sentence telling the user to set it.
            let passiveVerdict = (passiveReport["verdict"] as? [String] ?? []).joined(separator: "\n")
            #expect(!passiveVerdict.contains("spin on a CPU"), "\(passiveVerdict)")
            timing.expect(abs(passiveParallelism - speedUp) <= 0.15 * speedUp,
                          "passive: parallelism \(passiveParallelism) against a measured speed-up of \(speedUp) (\(one) s / \(two) s)")
        }
    }

    /// A program without such a runtime gets no such sentence.
    @Test func aProgramWithoutOneIsNotSaidToSpin() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("lock_schedule", in: dir)
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", workload, "2", "5", "2000"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let report = try Harness.reportJSON(trace)
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
        #expect(!verdict.contains("spin on a CPU"), "\(verdict)")
        let summary = report["summary"] as? [String: Any] ?? [:]
        let uses = summary["spinWaitRuntimes"] as? [Any] ?? []
        #expect(uses.isEmpty, "\(uses)")
    }
}
