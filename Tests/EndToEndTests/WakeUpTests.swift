import Foundation
import Testing

/// Two Python threads handing Events back and forth: each hand-off wakes the
/// other thread on the other CPU, and the wake-ups were half the run. The
/// report said only "Serial parts … the critical path is 463 ms (48% of the
/// wall time)": its replay's critical path assumes a woken thread runs at
/// once. The truth is the same program with both threads on one CPU (no
/// cross-CPU wake-ups: 0.39–0.43 s against 0.90–0.99 s here): the wake-up cost
/// gtrace gives must be within 40% of the differences' band, and said, when that
/// difference is at least a quarter of the run (below, the difference does not measure
/// the wake-ups: see the end of `check`).
@Suite struct WakeUpTests {
    static func wall(_ arguments: [String]) throws -> Double {
        let run = try Harness.run(arguments[0], Array(arguments.dropFirst()))
        try #require(run.status == 0, "\(run.stderr)")
        let own = try #require(try JSONSerialization.jsonObject(with: run.stdoutData) as? [String: Any], "\(run.stdout)")
        return SchedulingTests.number(own["wall_ns"])
    }

    @Test func wakeUpsBetweenTwoPythonThreadsAreTheirCostOnTwoCPUs() throws {
        let python = "/usr/bin/python3.11"
        try #require(FileManager.default.isExecutableFile(atPath: python), "tools/setup installs Debian's python3")
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.check([python, "\(Harness.packageRoot)/tools/workloads/py_pingpong.py", "10000"], in: dir)
    }

    /// The same hand-off in C through a condition variable. Its replay was 33% short: the
    /// waiter's latency counted from the signaller's release of the mutex (6 µs after its
    /// signal here) but was replayed from the signal. The replay must fit the run.
    @Test func wakeUpsThroughAConditionVariableReplayAsMeasured() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("cond_pingpong", in: dir)
        let report = try Self.check([program, "20000"], in: dir)
        let fit = ParallelismTests.parallelism(report)["replayFit"] as? [String: Any] ?? [:]
        #expect(fit["fits"] as? Bool == true, "\(fit)")
    }

    /// Runs `command` untraced (free and on one CPU, interleaved) and traced; checks the
    /// wake-up cost against the difference. Returns the report.
    @discardableResult
    static func check(_ command: [String], in dir: String) throws -> [String: Any] {
        try Remeasure.upTo(3, "wake-ups \(command.last ?? "")") { timing in
            // Untraced, interleaved: both threads free to use both CPUs, and pinned to one.
            // The same program's wake-ups cost 100–250 ms in one run and 300 ms in the next
            // here (a free run took 293–586 ms against 187–207 pinned), so gtrace's cost of
            // its one run is checked against the band the pairs spread over, not the median.
            var free: [Double] = [], pinned: [Double] = []
            for _ in 0..<5 {
                free.append(try Self.wall(command))
                pinned.append(try Self.wall(["/usr/bin/taskset", "-c", "0"] + command))
            }
            let wakeCost = free.sorted()[2] - pinned.sorted()[2]
            let pairCosts = zip(free, pinned).map { $0 - $1 }.sorted()
            let trace = "\(dir)/t.data"
            let run = try Harness.gtrace(["record", "-o", trace, "--"] + command)
            try #require(run.status == 0, "\(run.stderr)")
            let report = try Harness.reportJSON(trace)
            let p = ParallelismTests.parallelism(report)
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: " ")
            let wakeUps = try #require(p["wakeUps"] as? [String: Any], "\(p)")
            // Two wake-ups per round: the workloads hand off 20000 times.
            #expect((wakeUps["count"] as? Int ?? 0) >= 20000, "\(wakeUps)")
            let cost = SchedulingTests.number(wakeUps["runNanoseconds"])
            if wakeCost >= 0.25 * free.sorted()[2] {
                timing.expect(cost >= 0.6 * min(wakeCost, pairCosts.first!) && cost <= 1.4 * max(wakeCost, pairCosts.last!),
                              "gtrace: \(cost / 1e6) ms of wake-ups; measured: \(free.map { $0 / 1e6 }) ms free against \(pinned.map { $0 / 1e6 }) ms on one CPU")
                timing.expect(verdict.contains("Wake-ups cost this run"), "\(verdict)")
            }
            // Below that the difference says nothing about the wake-ups: on two CPUs each
            // thread's work after it lets the other go overlaps the other's wake-up, on one CPU
            // it cannot, so "free minus pinned" is the wake-ups less that overlap. Session 20's
            // VM: py_pingpong pinned 226–311 ms against 178–233 free (its CPU time above its
            // wall time), and cond_pingpong within 10%, while gtrace measured 4–9 µs per
            // wake-up. The earlier "cheap wake-ups, no sentence" check assumed otherwise.
            return report
        }
    }
}
