import Foundation
import GtraceAnalysis

/// The terminal report's parallelism parts: the three numbers under the
/// verdict, and the details (utilisation bars, predictions, critical path).
enum ParallelismReport {
    /// "wall … | parallelism … | at most … with unlimited cores": the numbers behind the verdict.
    static func headline(_ a: TraceAnalysis) -> [String] {
        guard let p = a.parallelism else { return [] }
        var numbers = ["wall time \(Formatting.duration(p.wallNanoseconds))",
                       String(format: "parallelism %.2f (%@ ÷ wall, %@)", p.averageParallelism, p.cpuSource, Verdict.coreCount(p.cores))]
        numbers.append(boundText(p) + unseenCaveat(a))
        if let f = p.foreignLoad, f.confirmed, f.share >= 0.1 {
            numbers.append(String(format: "other programs held the CPUs %.0f%% of the run", f.share * 100))
        }
        var out = ["  " + numbers.joined(separator: " | ")]
        if let fit = p.replayFit {
            out.append(String(format: "  replay: the recording replays in %@ against %@ measured (%+.0f%%: %@)",
                              Formatting.duration(fit.replayNanoseconds), Formatting.duration(fit.measuredNanoseconds), fit.error * 100,
                              fit.fits ? "the model fits" : "the model does not fit, no predictions"))
        }
        return out
    }

    /// The parallelism bound in words.
    static func boundText(_ p: ParallelismStatistics) -> String {
        guard let b = p.bound else { return "no bound: no lock serialised work and no replay" }
        let value = String(format: "at most %.2f with unlimited cores", b.value)
        switch b.limitedBy {
        case "threads":
            return value + String(format: " (no more than its threads alive at once, %d)", b.threadsAtOnce ?? 0)
        case "lock":
            let s = p.serialised
            return value + String(format: " (%.0f%% of the work serialised by %@, pid %d)", (s?.serialFraction ?? 0) * 100,
                                  s?.resource ?? "a lock", s?.pid ?? 0)
        default:
            let path = Formatting.duration(p.criticalPath?.lengthNanoseconds ?? 0)
            // Waits kept as recorded (their waker unseen) stay on the path whatever the cores.
            return value + ((b.criticalPathBound ?? 2) < 1
                ? p.keptWaitsAreLarge ? " (the critical path, \(path), is at least the CPU time, with \(Formatting.duration(p.keptWaitNanoseconds)) of waits kept as recorded: their waker unseen)"
                    : " (the critical path, \(path), is at least the \(p.spinningNanoseconds == nil ? "CPU time" : "work, the CPU time less spinning"): more cores cannot shorten it)"
                : " (critical path \(path))")
        }
    }

    /// The bound and the critical path keep waits gtrace cannot see as recorded (a Go program's
    /// goroutines parked on its own mutex, a static program's futexes): said when they are many.
    static func unseenCaveat(_ a: TraceAnalysis) -> String {
        guard let unseen = a.invisibleWaits, unseen.isSignificant else { return "" }
        return String(format: ", if the %.0f%% of thread time in waits gtrace cannot see stays as recorded", unseen.shareBeyondRecording * 100)
    }

    /// The what-if the verdict suggests (on this machine's cores), if any.
    static func bestPrediction(_ p: ParallelismStatistics) -> Prediction? { p.whatIf }

    static func details(_ a: TraceAnalysis) -> [String] {
        guard let p = a.parallelism else { return [] }
        var out = ["Parallelism (CPU from \(p.cpuSource))"]
        out.append(String(format: "  wall %@, CPU %@, average parallelism %.2f on %@", Formatting.duration(p.wallNanoseconds),
                          Formatting.duration(p.cpuNanoseconds), p.averageParallelism, Verdict.coreCount(p.cores)))
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
            out.append(String(format: "  serialised work: %@ on a CPU holding %@ (pid %d) while another thread waited for it (held %@ in all), %.1f%% of the work; Amdahl bound %.2f×",
                              Formatting.duration(s.nanoseconds), s.resource, s.pid, Formatting.duration(s.heldNanoseconds),
                              s.serialFraction * 100, s.amdahlBound))
        } else {
            out.append(a.invisibleWaits?.isSignificant == true
                ? "  serialised work: none seen (no recorded holder ran while another thread waited for its lock; the locks behind the waits gtrace cannot see are not recorded)"
                : "  serialised work: none (no holder ran while another thread waited for its lock)")
        }
        if p.bound != nil {
            // With spinning for spinlocks, the bound divides the work (the CPU time less it).
            let spinning = p.spinningNanoseconds
            let (divided, floor, floorValue) = spinning == nil
                ? ("CPU", "measured", p.averageParallelism)
                : ("work", "work's parallelism", p.wallNanoseconds == 0 ? 0 : Double(p.workNanoseconds) / Double(p.wallNanoseconds))
            out.append(String(format: "  parallelism bound: %@ = %@ ÷ max(serialised work, critical path), at least 1 and the %@ %.2f%@",
                              boundText(p), divided, floor, floorValue, unseenCaveat(a))
                       + (spinning.map { "; the work is the CPU time less \(Formatting.duration($0)) its threads spun waiting for spinlocks" } ?? ""))
        }
        if let f = p.foreignLoad {
            out.append(String(format: "  foreign load: for %@ (%.1f%% of the wall time) some threads were runnable while fewer than %d ran; ",
                              Formatting.duration(f.wallNanoseconds), f.share * 100, p.cores)
                       + (f.confirmed ? "other programs held \(Formatting.duration(f.cpuNanoseconds)) of CPU time they wanted"
                          : f.undetermined ? "they wanted \(Formatting.duration(f.cpuNanoseconds)) of CPU time, and the machine's idle counters "
                            + "(/proc/stat's 10 ms ticks, without cpuidle) leave \(Formatting.duration(f.othersCPUNanoseconds ?? 0)) to all other work, "
                            + "within their error: other programs, the kernel, gtrace's recorder or an idle CPU, they cannot tell which"
                          : f.byRecorder ? "they wanted \(Formatting.duration(f.cpuNanoseconds)) of CPU time, and gtrace's recorder used "
                            + "\(Formatting.duration(f.recorderCPUNanoseconds ?? 0)) (its live scan of the records, perf's rings) while the machine's idle "
                            + "counters leave only \(Formatting.duration(f.othersCPUNanoseconds ?? 0)) to everything else: the recorder, not other programs"
                          : "they wanted \(Formatting.duration(f.cpuNanoseconds)) of CPU time, but the machine's idle counters leave only "
                            + "\(Formatting.duration(f.othersCPUNanoseconds ?? 0)) to all other work"
                            + ((f.idleEntries ?? 0) > 0
                               ? ", and the CPUs' \(f.idleEntries ?? 0) entries into idle account for up to "
                                 + Formatting.duration(f.idlePollingNanoseconds)
                                 + " of that (a CPU polls before it halts, and the counters count the polling as busy)"
                               : "")
                            + ": a CPU stayed idle while a thread waited (the scheduler woke it on a busy CPU or moved it late"
                            + (f.cpusUsed.map { ", or the command restricted its own CPUs: its threads ran on only \($0) of \(p.cores)" } ?? "")
                            + "), not other programs"))
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
            out.append(String(format: "  replay (model: docs/METRICS.md): the recording as it was replays in %@ against %@ measured%@",
                              Formatting.duration(check.wallNanoseconds), Formatting.duration(p.wallNanoseconds),
                              p.replayFit?.fits == false ? " (more than 15% off: the model does not fit this run)" : ""))
            var table = TextTable(header: ["what if", "cores", "wall", "vs as recorded"])
            table.leftAligned = [0]
            for prediction in p.predictions {
                table.rows.append([prediction.scenario + (prediction.stuckThreads > 0 ? " (\(prediction.stuckThreads) threads stuck)" : ""),
                                   prediction.cores.map(String.init) ?? "∞", Formatting.duration(prediction.wallNanoseconds),
                                   String(format: "%.2f×", prediction.speedup)])
            }
            out += table.render(indent: "    ")
            if let note = p.fewerCoresNote { out.append("    " + note) }
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
        if comparison.runs.contains(where: { $0.foreignLoadShare != nil }) {
            row("foreign load") { $0.foreignLoadShare.map { String(format: "%.0f%%", $0 * 100) } ?? "-" }
        }
        var out = ["Comparison"]
        out += comparison.runs.enumerated().map { "  run \($0.offset + 1): \($0.element.trace) — \(TextReport.truncate($0.element.command, 70))" }
        out += table.render()
        out.append("")
        out += comparison.runs.enumerated().map { "  run \($0.offset + 1) is limited by \($0.element.limit)." }
        out += comparison.warnings.map { "  warning: " + $0 }
        return TerminalText.report(out.joined(separator: "\n")) + "\n"
    }
}
