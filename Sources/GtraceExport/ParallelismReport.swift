import Foundation
import GtraceAnalysis

/// The terminal report's parallelism parts: the three numbers under the
/// verdict, and the details (utilisation bars, predictions, critical path).
enum ParallelismReport {
    /// "wall … | parallelism … | at most …× faster": the numbers behind the verdict.
    static func headline(_ a: TraceAnalysis) -> [String] {
        guard let p = a.parallelism else { return [] }
        var numbers = ["wall time \(Formatting.duration(p.wallNanoseconds))",
                       String(format: "parallelism %.2f (CPU ÷ wall, %d cores)", p.averageParallelism, p.cores)]
        if let s = p.serialised {
            numbers.append(String(format: "at most %.2f× faster with unlimited cores (%.0f%% of the work inside %@)",
                                  s.amdahlBound, s.serialFraction * 100, s.resource))
        } else {
            numbers.append("no lock serialises the work")
        }
        var out = ["  " + numbers.joined(separator: " | ")]
        if let best = bestPrediction(p) {
            out.append(String(format: "  replay: %@ on %d cores → %@ (%.2f× faster)", best.scenario, best.cores ?? p.cores,
                              Formatting.duration(best.wallNanoseconds), best.speedup))
        }
        return out
    }

    /// The most useful what-if on this machine's cores: the one that helps most.
    static func bestPrediction(_ p: ParallelismStatistics) -> Prediction? {
        p.predictions.filter { $0.cores == p.cores && $0.scenario != "as recorded" && $0.stuckThreads == 0 }
            .max { $0.speedup < $1.speedup }
    }

    static func details(_ a: TraceAnalysis) -> [String] {
        guard let p = a.parallelism else { return [] }
        var out = ["Parallelism (CPU from \(p.cpuSource))"]
        out.append(String(format: "  wall %@, CPU %@, average parallelism %.2f on %d cores", Formatting.duration(p.wallNanoseconds),
                          Formatting.duration(p.cpuNanoseconds), p.averageParallelism, p.cores))
        if !p.utilisation.isEmpty {
            out.append("  threads on a CPU, share of the wall time:")
            let widest = 40.0
            for level in p.utilisation where level.nanoseconds > 0 || level.threadsOnCPU <= p.cores {
                let bar = String(repeating: "█", count: Int((level.fraction * widest).rounded()))
                out.append(String(format: "  %3d │%@ %.1f%% (%@)", level.threadsOnCPU, bar.padding(toLength: Int(widest), withPad: " ", startingAt: 0),
                                  level.fraction * 100, Formatting.duration(level.nanoseconds)))
            }
        }
        // Per process, for processes with several threads: CPUs in use and the share of each level.
        for process in a.processes where process.threadCount > 1 {
            guard let levels = process.utilisationLevels, !levels.isEmpty else { continue }
            let shares = levels.filter { $0.nanoseconds > 0 }.map { String(format: "%d: %.0f%%", $0.threadsOnCPU, $0.fraction * 100) }
            out.append(String(format: "  process %d: parallelism %.2f over its %@; threads on a CPU %@", process.pid, process.averageParallelism,
                              Formatting.duration(process.lifetimeNanoseconds), shares.joined(separator: ", ")))
        }
        if let s = p.serialised {
            out.append(String(format: "  serialised work: %@ inside %@ (pid %d), %.1f%% of the work; Amdahl bound %.2f×",
                              Formatting.duration(s.nanoseconds), s.resource, s.pid, s.serialFraction * 100, s.amdahlBound))
        }
        if let c = p.criticalPath {
            out.append("  critical path (unlimited cores, through lock hand-offs, joins and waits for children): "
                       + Formatting.duration(c.lengthNanoseconds))
            if !c.locks.isEmpty {
                out.append("    locks on it: " + c.locks.map { "\($0.lock) (pid \($0.pid)) ×\($0.handOffs)" }.joined(separator: ", "))
            }
            out.append("    threads on it: " + c.threads.prefix(5).map {
                "\($0.tid) \($0.name.isEmpty ? "" : $0.name + " ")\(Formatting.duration($0.nanoseconds))"
            }.joined(separator: ", ") + (c.waitsForOthers > 0 ? "; waits for another thread or child on it: \(c.waitsForOthers)" : ""))
        }
        if let note = p.replayNote { out.append("  " + note) }
        if let check = p.replayOfRecording {
            out.append(String(format: "  replay (model: docs/METRICS.md): the recording as it was replays in %@ against %@ measured",
                              Formatting.duration(check.wallNanoseconds), Formatting.duration(p.wallNanoseconds)))
            var table = TextTable(header: ["what if", "cores", "wall", "speedup"])
            table.leftAligned = [0]
            for prediction in p.predictions {
                table.rows.append([prediction.scenario + (prediction.stuckThreads > 0 ? " (\(prediction.stuckThreads) threads stuck)" : ""),
                                   prediction.cores.map(String.init) ?? "∞", Formatting.duration(prediction.wallNanoseconds),
                                   String(format: "%.2f×", prediction.speedup)])
            }
            out += table.render(indent: "    ")
            if p.unexplainedWaitNanoseconds > 0 {
                let largest = p.unexplainedWaits.prefix(3).map {
                    "\($0.what) in \($0.pid)/\($0.tid) \(Formatting.duration($0.nanoseconds))"
                }
                out.append("    waits the replay keeps as recorded, without a known waker: \(Formatting.duration(p.unexplainedWaitNanoseconds))"
                           + (largest.isEmpty ? "" : "; largest: " + largest.joined(separator: ", ")))
            }
        }
        return out + [""]
    }
}

/// `gtrace report A B …`: one column per run.
public enum ComparisonReport {
    public static func render(_ comparison: Comparison) -> String {
        var table = TextTable(header: [""] + comparison.runs.indices.map { "run \($0 + 1)" })
        table.leftAligned = [0]
        func row(_ label: String, _ value: (Comparison.Run) -> String) {
            table.rows.append([label] + comparison.runs.map(value))
        }
        row("wall") { Formatting.duration($0.wallNanoseconds) }
        row("CPU") { Formatting.duration($0.cpuNanoseconds) }
        row("parallelism") { String(format: "%.2f", $0.parallelism) }
        row("GIL held") { $0.gilHeldPercent.map { String(format: "%.0f%%", $0) } ?? "-" }
        row("workers") { "\($0.workers)" }
        row("speedup vs run 1") { String(format: "%.2f×", $0.speedup) }
        row("efficiency") { String(format: "%.0f%%", $0.efficiency * 100) }
        row("Karp–Flatt serial fraction") { $0.karpFlattSerialFraction.map { String(format: "%.2f", $0) } ?? "-" }
        var out = ["Comparison"]
        out += comparison.runs.enumerated().map { "  run \($0.offset + 1): \($0.element.trace) — \(TextReport.truncate($0.element.command, 70))" }
        out += table.render()
        out.append("")
        out += comparison.runs.enumerated().map { "  run \($0.offset + 1) is limited by \($0.element.limit)." }
        return out.joined(separator: "\n") + "\n"
    }
}
