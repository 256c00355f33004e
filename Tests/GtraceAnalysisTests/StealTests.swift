import Foundation
import Testing
@testable import GtraceAnalysis
@testable import GtraceFormat

/// The hypervisor's steal (/proc/stat, recorded by `record` around the run) in
/// the verdict and in comparisons.
@Suite struct StealTests {
    func e(_ time: UInt64, _ thread: Int, _ kind: EventKind) -> TraceEvent { .init(time: time, thread: thread, kind: kind) }

    /// BoundTests' two-thread process with the machine's CPU time of the recording.
    func analysis(busy: UInt64, idle: UInt64, steal: UInt64?) throws -> TraceAnalysis {
        var tables = BoundTests.tables()
        if let steal {
            tables.info.values += [("machine_busy_ns", "\(busy)"), ("machine_idle_ns", "\(idle)"), ("machine_steal_ns", "\(steal)")]
        }
        let a = [e(0, 0, .cpuIn(cpu: 0)), e(90_000, 0, .cpuOut(cpu: 0, preempted: false))]
        let b = [e(0, 1, .cpuIn(cpu: 1)), e(50_000, 1, .cpuOut(cpu: 1, preempted: false))]
        return try BoundTests.analyze(tables, [a, b])
    }

    @Test func stealAboveTwoPercentIsNamedInTheVerdict() throws {
        let stolen = try analysis(busy: 140_000, idle: 40_000, steal: 20_000)
        let machine = try #require(stolen.summary.machine)
        #expect(abs(machine.stealShare - 0.1) < 1e-9)
        let sentence = try #require(stolen.verdict.first { $0.hasPrefix("The hypervisor gave 10%") })
        #expect(sentence.contains("20 µs"))
        let quiet = try analysis(busy: 140_000, idle: 59_000, steal: 1_000)
        #expect(!quiet.verdict.contains { $0.contains("hypervisor") })
        let unknown = try analysis(busy: 0, idle: 0, steal: nil)
        #expect(unknown.summary.machine == nil)
        #expect(!unknown.verdict.contains { $0.contains("hypervisor") })
    }

    @Test func comparisonWarnsWhenStealDiffers() throws {
        let quiet = try analysis(busy: 140_000, idle: 60_000, steal: 0)
        let stolen = try analysis(busy: 140_000, idle: 20_000, steal: 40_000)
        let warned = Comparison([quiet, stolen]).warnings
        #expect(warned.contains { $0.contains("hypervisor took 20%") && $0.contains("run 2") })
        #expect(!Comparison([quiet, quiet]).warnings.contains { $0.contains("hypervisor") })
    }
}
