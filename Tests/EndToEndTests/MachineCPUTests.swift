import Foundation
import Testing

/// `record` keeps the machine's CPU time by kind between the spawn and the end
/// of the tree (/proc/stat): the report's steal figure comes from it.
@Suite(.serialized) struct MachineCPUTests {
    typealias S = SchedulingTests

    /// All CPUs' time together covers the recording: at least cores × the program's
    /// wall and at most cores × the test's wall around `record` (10 ms ticks at either
    /// end); the steal is at most what the test saw around the whole command.
    @Test func recordingKeepsTheMachinesCPUTime() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        try Remeasure.upTo(3, "machine's CPU time") { timing in
            let steal0 = Steal.seconds(), start = Date()
            #expect(try Harness.gtrace(["record", "-o", trace, "--", "/bin/sleep", "0.3"]).status == 0)
            let outer = Date().timeIntervalSince(start) * 1e9, stolen = (Steal.seconds() - steal0) * 1e9
            let report = try Harness.reportJSON(trace)
            let summary = report["summary"] as? [String: Any] ?? [:]
            let machine = try #require(summary["machine"] as? [String: Any])
            let busy = S.number(machine["busyNanoseconds"]), idle = S.number(machine["idleNanoseconds"])
            let steal = S.number(machine["stealNanoseconds"])
            let total = busy + idle + steal, tick = 1e9 / Double(sysconf(Int32(_SC_CLK_TCK)))
            let wall = S.number(summary["wallNanoseconds"])
            timing.expect(total >= cores * (wall - 2 * tick), "machine CPU \(total / 1e6) ms, cores × the program's wall \(cores * wall / 1e6) ms")
            timing.expect(total <= cores * (outer + 2 * tick), "machine CPU \(total / 1e6) ms, cores × the test's wall \(cores * outer / 1e6) ms")
            timing.expect(steal <= stolen + 2 * cores * tick, "steal in the trace \(steal / 1e6) ms, around the command \(stolen / 1e6) ms")
            // A sleeping program: the machine was mostly idle.
            timing.expect(idle > 0.5 * total, "idle \(idle / 1e6) ms of \(total / 1e6) ms")
        }
    }
}
