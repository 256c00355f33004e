import Foundation

/// Several runs of one program side by side (docs/METRICS.md, "Comparing runs").
public struct Comparison: Sendable, Codable {
    public struct Run: Sendable, Codable {
        public var trace: String
        public var command: String
        public var wallNanoseconds: UInt64
        public var cpuNanoseconds: UInt64
        public var parallelism: Double
        /// The busiest GIL's held share of the wall time (nil: no Python).
        public var gilHeldPercent: Double?
        /// Threads (in any process) that did at least half the busiest one's work; the
        /// first process's main thread only when no other thread qualifies.
        public var workers: Int
        /// First run's wall time ÷ this run's.
        public var speedup: Double
        /// Speedup ÷ workers.
        public var efficiency: Double
        /// Karp–Flatt: (1/speedup − 1/workers) ÷ (1 − 1/workers); nil for one worker.
        public var karpFlattSerialFraction: Double?
        /// What limits this run, in one sentence (the verdict's rule).
        public var limit: String
        /// Share of the run during which other programs held CPUs its threads waited for (perf only).
        public var foreignLoadShare: Double?
        /// CPU time other programs held while this run wanted it ÷ (cores × wall): the share of the machine they took from it.
        public var foreignCPUShare: Double?
        /// The hypervisor's steal ÷ the machine's CPU time during the run (/proc/stat), when recorded.
        public var stealShare: Double?
    }

    public var runs: [Run]
    /// Reasons the runs are not comparable (e.g. different foreign load).
    public var warnings: [String] = []
    /// Runs whose foreign-load shares differ by more than this are flagged.
    static let foreignLoadDifference = 0.1
    /// A run with at least this foreign-load share is flagged on its own.
    static let inflatedShare = 0.3
    /// Runs whose steal shares differ by more than this are flagged.
    static let stealDifference = 0.05

    public init(_ analyses: [TraceAnalysis]) {
        let baseline = Double(max(analyses.first?.summary.wallNanoseconds ?? 1, 1))
        runs = analyses.map { a in
            let p = a.parallelism
            let wall = a.summary.wallNanoseconds
            let cpu = p?.cpuNanoseconds ?? a.summary.cpuNanoseconds
            let workers = Verdict.workers(a)
            let speedup = baseline / Double(max(wall, 1))
            let gil = a.gil.filter(\.traced).map(\.heldRatio).max()
            var karpFlatt: Double?
            if workers > 1 {
                let p = Double(workers)
                karpFlatt = (1 / speedup - 1 / p) / (1 - 1 / p)
            }
            return Run(trace: a.summary.trace, command: a.summary.command, wallNanoseconds: wall, cpuNanoseconds: cpu,
                       parallelism: wall == 0 ? 0 : Double(cpu) / Double(wall), gilHeldPercent: gil.map { $0 * 100 },
                       workers: workers, speedup: speedup, efficiency: speedup / Double(workers),
                       karpFlattSerialFraction: karpFlatt, limit: a.limit?.summary ?? Verdict.decide(a).limit.summary,
                       foreignLoadShare: p?.foreignLoad.flatMap { $0.confirmed ? $0.share : nil },
                       foreignCPUShare: p?.foreignLoad.map { f in
                           Double(f.cpuNanoseconds) / (Double(max(p?.cores ?? 1, 1)) * Double(max(wall, 1)))
                       },
                       stealShare: a.summary.machine?.stealShare)
        }
        let machine = runs.enumerated().compactMap { run in run.element.foreignCPUShare.map { (run.offset, $0) } }
        if let low = machine.min(by: { $0.1 < $1.1 }), let high = machine.max(by: { $0.1 < $1.1 }),
           high.1 - low.1 > Self.foreignLoadDifference {
            warnings.append(String(format: "the runs had different foreign load: other programs took %.0f%% of the machine's CPU time from run %d but %.0f%% from run %d, so their times are not comparable; rerun them on a quiet machine",
                                   high.1 * 100, high.0 + 1, low.1 * 100, low.0 + 1))
        }
        let steals = runs.enumerated().compactMap { run in run.element.stealShare.map { (run.offset, $0) } }
        if let low = steals.min(by: { $0.1 < $1.1 }), let high = steals.max(by: { $0.1 < $1.1 }),
           high.1 - low.1 > Self.stealDifference {
            warnings.append(String(format: "the hypervisor took %.0f%% of the machine's CPU time during run %d but %.0f%% during run %d (steal, /proc/stat), so their times are not comparable; rerun them when the host is quieter",
                                   high.1 * 100, high.0 + 1, low.1 * 100, low.0 + 1))
        }
        let shares = runs.enumerated().compactMap { run in run.element.foreignLoadShare.map { (run.offset, $0) } }
        for (index, share) in shares where share >= Self.inflatedShare {
            warnings.append(String(format: "run %d ran on a loaded machine: other programs held the CPUs for %.0f%% of it, so its times are inflated",
                                   index + 1, share * 100))
        }
    }
}
