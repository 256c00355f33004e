import Foundation

/// Plain-language conclusions drawn from an analysis: what limited the run.
public enum Verdict {
    /// Thresholds behind the verdicts (documented in docs/METRICS.md).
    static let gilBoundHeldRatio = 0.8
    static let gilFreeHeldRatio = 0.5
    static let serialisingLockHoldRatio = 0.5

    public static func sentences(for a: TraceAnalysis, cpus: Int) -> [String] {
        var out: [String] = []
        let cores = max(cpus, 1)
        let cpuParallelism = a.summary.wallNanoseconds == 0 ? 0 : Double(a.summary.cpuNanoseconds) / Double(a.summary.wallNanoseconds)
        let tracedGILs = a.gil.filter(\.traced)

        if tracedGILs.count > 1 {
            out.append(String(format: "%d Python processes, each with its own GIL, ran with an average parallelism of %.2f (CPU time ÷ wall time) on this %d-core machine.",
                              tracedGILs.count, cpuParallelism, cores))
        }
        for g in tracedGILs {
            let threads = a.threads.filter { $0.process == g.process && ($0.gil?.holdingNanoseconds ?? 0) > 0 }.count
            let held = g.heldRatioMultithreaded ?? g.heldRatio
            let who = tracedGILs.count > 1 ? "process \(g.pid): " : ""
            if g.heldRatioMultithreaded == nil || threads < 2 {
                if tracedGILs.count == 1 {
                    out.append(String(format: "%@Single-threaded Python (GIL held %.0f%% of its lifetime): the GIL does not limit it; only processes could add parallelism.",
                                      who, g.heldRatio * 100))
                }
                continue
            }
            if held >= gilBoundHeldRatio && g.averageWaiters >= 0.5 {
                let speedup = Double(min(threads, cores))
                out.append(String(format: "%@CPU-bound Python under the GIL: %d threads never ran Python in parallel (GIL held %.0f%% of the time while several threads existed, %.1f waiting for it on average). Processes would run in parallel here: expect about %.0f× on this %d-core machine.",
                                  who, threads, held * 100, g.averageWaiters, speedup, cores))
            } else if held < gilFreeHeldRatio {
                out.append(String(format: "%@The GIL was mostly free (held %.0f%% of the time while several threads existed): the %d threads spent their time blocked, sleeping or in C code that releases the GIL, so threads are the right tool here and overlap their waits.",
                                  who, held * 100, threads))
            } else {
                out.append(String(format: "%@The GIL was held %.0f%% of the time while %d threads existed (%.1f waiting on average): Python code is partly serialised; the part outside the GIL ran in parallel.",
                                  who, held * 100, threads, g.averageWaiters))
            }
        }
        if let lock = a.locks.first(where: { $0.kind != "GIL" && $0.holdRatio >= serialisingLockHoldRatio && $0.contendedAcquisitions > 0 }) {
            out.append(String(format: "Lock %@ (pid %d) was held %.0f%% of the run, with %.2f threads waiting for it on average and %.0f%% of its acquisitions contended: it serialises the program.",
                              lock.name, lock.pid, lock.holdRatio * 100, lock.waitRatio, lock.contendedPercent))
        }
        if out.isEmpty {
            out.append(String(format: "No lock limited this run: average parallelism %.2f (CPU time ÷ wall time) on %d cores.", cpuParallelism, cores))
        }
        return out
    }
}
