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
        /// What limits this run, in one sentence.
        public var limit: String
    }

    public var runs: [Run]

    public init(_ analyses: [TraceAnalysis]) {
        let baseline = Double(max(analyses.first?.summary.wallNanoseconds ?? 1, 1))
        runs = analyses.map { a in
            let p = a.parallelism
            let wall = a.summary.wallNanoseconds
            let cpu = p?.cpuNanoseconds ?? a.summary.cpuNanoseconds
            let workers = Self.workers(a)
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
                       karpFlattSerialFraction: karpFlatt, limit: Self.limit(a, workers: workers))
        }
    }

    static func workers(_ a: TraceAnalysis) -> Int {
        let work = a.threads.map { $0.states?.onCPUNanoseconds ?? $0.cpuNanoseconds ?? 0 }
        let busiest = work.max() ?? 0
        guard busiest > 0 else { return 1 }
        let rootMain = a.threads.firstIndex { $0.process == 0 && $0.tid == $0.pid }
        let busy = a.threads.indices.filter { work[$0] * 2 >= busiest }
        let others = busy.filter { $0 != rootMain }
        return max(1, others.isEmpty ? busy.count : others.count)
    }

    /// The one thing that limits a run, from its own numbers.
    static func limit(_ a: TraceAnalysis, workers: Int) -> String {
        let p = a.parallelism
        let cores = p?.cores ?? 1
        let parallelism = p?.averageParallelism ?? 0
        if let gil = a.gil.filter(\.traced).max(by: { $0.heldRatio < $1.heldRatio }),
           (gil.heldRatioMultithreaded ?? 0) >= 0.8, gil.averageWaiters >= 0.5 {
            return String(format: "the GIL: held %.0f%% of the time with %.1f threads waiting; processes would run in parallel",
                          (gil.heldRatioMultithreaded ?? gil.heldRatio) * 100, gil.averageWaiters)
        }
        if let s = p?.serialised, s.serialFraction >= 0.5, !s.resource.hasPrefix("GIL") {
            return String(format: "lock %@: %.0f%% of the work runs inside it (at most %.1f× with unlimited cores)",
                          s.resource, s.serialFraction * 100, s.amdahlBound)
        }
        if parallelism >= 0.8 * Double(cores) {
            return String(format: "the CPUs: %.2f of %d cores busy on average; more cores would help", parallelism, cores)
        }
        let blocked = a.threads.compactMap(\.states).reduce(UInt64(0)) {
            $0 + $1.sleepingNanoseconds + $1.ioNanoseconds + $1.childWaitNanoseconds
        }
        let alive = a.threads.compactMap(\.states).reduce(UInt64(0)) { $0 + $1.totalNanoseconds }
        if alive > 0, Double(blocked) / Double(alive) >= 0.5 {
            return String(format: "waiting: its threads spent %.0f%% of their time sleeping, in I/O or waiting for children",
                          100 * Double(blocked) / Double(alive))
        }
        if workers <= 1 {
            return String(format: "a single busy thread (parallelism %.2f): the work is not split", parallelism)
        }
        return String(format: "serial parts: parallelism %.2f with %d workers on %d cores", parallelism, workers, cores)
    }
}
