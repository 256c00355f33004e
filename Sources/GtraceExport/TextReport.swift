import GtraceAnalysis
import GtraceFormat

/// The terminal report: run summary, lock table, thread table.
public enum TextReport {
    /// "153 processes (100 execs), 153 threads" (TraceTables.countsText).
    static func processesAndThreads(_ s: RunSummary) -> String {
        TraceTables.countsText(entries: (s.processCount, s.threadCount), execs: (s.execCount, s.execContinuedThreads))
    }

    /// The verdict and the numbers behind it; with `details`, every section.
    public static func render(_ a: TraceAnalysis, details: Bool = true, maxLocks: Int = 20) -> String {
        var out: [String] = []
        let s = a.summary
        out.append("gtrace report: \(s.trace)")
        if !s.command.isEmpty { out.append("command: \(TerminalText.field(s.command))") }
        out.append("wall time \(Formatting.duration(s.wallNanoseconds)), CPU time \(Formatting.duration(s.cpuNanoseconds)) "
                   + "(user \(Formatting.duration(s.userCPUNanoseconds)), system \(Formatting.duration(s.systemCPUNanoseconds))), "
                   + Self.processesAndThreads(s) + ", "
                   + "\(s.lockCount) lock\(s.lockCount == 1 ? "" : "s"), \(s.eventCount) events")
        out.append("")
        if !a.verdict.isEmpty {
            out.append("Verdict")
            out += a.verdict.map { "  " + $0 }
            out += ParallelismReport.headline(a)
            out += PythonReport.headline(a)
            out.append("")
        }
        guard details else {
            out.append("(processes, threads, locks, the GIL, parallelism and the replay's predictions: gtrace report --details)")
            if !a.warnings.isEmpty {
                out.append("")
                out += a.warnings.map { "warning: \($0)" }
            }
            return TerminalText.report(out.joined(separator: "\n")) + "\n"
        }
        out += ParallelismReport.details(a)

        out += SchedulingReport.processTree(a)
        out.append("")
        out += SchedulingReport.utilisation(a)

        let used = a.locks.filter { $0.futex == nil && ($0.acquisitions > 0 || $0.waitCount > 0 || $0.trylockBusy > 0) }
        out.append("Locks by hold ratio (\(used.count) used\(used.count > maxLocks ? ", top \(maxLocks) shown" : ""))")
        if used.isEmpty {
            out.append("  no lock was acquired")
        } else {
            var locks = TextTable(header: ["lock", "pid", "kind", "acquired", "contended", "owner chg",
                                           "hold total", "mean", "max", "p99", "hold ratio",
                                           "wait total", "mean", "max", "wait ratio"])
            locks.leftAligned = [0, 2]
            for l in used.prefix(maxLocks) {
                locks.rows.append([TerminalText.field(l.name), "\(l.pid)", l.kind, "\(l.acquisitions)",
                                   Formatting.percent(l.contendedPercent / 100), "\(l.ownerChanges)",
                                   Formatting.duration(l.holdTotalNanoseconds), Formatting.duration(l.holdMeanNanoseconds),
                                   Formatting.duration(l.holdMaxNanoseconds), Formatting.duration(l.holdP99Nanoseconds),
                                   Formatting.percent(l.holdRatio), Formatting.duration(l.waitTotalNanoseconds),
                                   Formatting.duration(l.waitMeanNanoseconds), Formatting.duration(l.waitMaxNanoseconds),
                                   Formatting.percent(l.waitRatio)])
            }
            out += locks.render()
            for l in used.prefix(maxLocks) where !l.callSites.isEmpty {
                out.append("")
                out.append("  Call sites of \(TerminalText.field(l.name)) (pid \(l.pid)), most waited-at first")
                var sites = TextTable(header: ["call site", "acquired", "waited", "wait total"])
                sites.leftAligned = [0]
                for c in l.callSites {
                    sites.rows.append([TerminalText.field(c.site), "\(c.acquisitions)", "\(c.waits)", Formatting.duration(c.waitNanoseconds)])
                }
                out += sites.render(indent: "    ")
            }
        }
        out.append("")
        out += PythonReport.lockWaits(a, top: maxLocks)
        out += FutexReport.table(a, maxLocks: maxLocks)
        out += FutexReport.jvm(a)

        for g in a.gil { out += gilSection(g, threads: a.threads.filter { $0.process == g.process }) }

        out.append("Threads")
        // The lock columns only when some thread used a lock other than the GIL.
        let usedLocks = a.threads.contains { $0.acquisitions > 0 || $0.waitingNanoseconds > 0 || $0.conditionWaitNanoseconds > 0 }
        var threads = TextTable(header: ["tid", "pid", "name", "lifetime", "CPU"]
                                + (usedLocks ? ["acquired", "holding locks", "waiting for locks", "cond waits"] : []) + ["ended"])
        threads.leftAligned = [0, 2, threads.header.count - 1]
        for t in a.threads {
            var row = ["\(t.tid)", "\(t.pid)", truncate(t.name, 24), Formatting.duration(t.lifetimeNanoseconds),
                       t.cpuNanoseconds.map(Formatting.duration) ?? "-"]
            if usedLocks {
                row += ["\(t.acquisitions)", share(t.holdingNanoseconds, of: t.lifetimeNanoseconds),
                        share(t.waitingNanoseconds, of: t.lifetimeNanoseconds), Formatting.duration(t.conditionWaitNanoseconds)]
            }
            threads.rows.append(row + [t.ended])
        }
        out += threads.render()
        if let unseen = a.invisibleWaits, unseen.isSignificant {
            out.append("  " + unseen.sentence.replacingOccurrences(of: ": locks behind them may serialise the work.", with: "")
                       + "; per thread: \"other off-CPU\" below")
        }
        out.append("")
        out += SchedulingReport.threadStates(a)
        if !a.warnings.isEmpty {
            out.append("")
            out += a.warnings.map { "warning: \($0)" }
        }
        return TerminalText.report(out.joined(separator: "\n")) + "\n"
    }

    static func gilSection(_ g: GILStatistics, threads: [ThreadStatistics]) -> [String] {
        var out = ["GIL of process \(g.pid) (CPython \(g.python), \(g.located))"]
        guard g.traced else { return out + ["  not traced", ""] }
        var held = "  held \(Formatting.percent(g.heldRatio)) of the process lifetime"
        if let ratio = g.heldRatioMultithreaded {
            held += ", \(Formatting.percent(ratio)) of the \(Formatting.duration(g.multithreadedNanoseconds)) during which several threads existed"
        }
        out.append(held)
        out.append(String(format: "  %d acquisitions, %d hand-offs to another thread (%.0f/s); %.1f threads waiting on average",
                          g.acquisitions, g.handOffs, g.handOffsPerSecond, g.averageWaiters))
        out.append("  hold: mean \(Formatting.duration(g.holdMeanNanoseconds)), p50 \(Formatting.duration(g.holdP50Nanoseconds)), "
                   + "p99 \(Formatting.duration(g.holdP99Nanoseconds)), max \(Formatting.duration(g.holdMaxNanoseconds))")
        out.append("  hand-off latency (release with a waiter to next acquire): mean \(Formatting.duration(g.handOffLatencyMeanNanoseconds)), "
                   + "p50 \(Formatting.duration(g.handOffLatencyP50Nanoseconds)), p99 \(Formatting.duration(g.handOffLatencyP99Nanoseconds))")
        var interval = "  switch interval: observed "
            + (g.observedSwitchIntervalNanoseconds.map(Formatting.duration) ?? "- (no forced switch)")
        if let configured = g.cpythonIntervalMicroseconds { interval += ", configured \(Formatting.duration(configured * 1000))" }
        out.append(interval)
        if let switches = g.cpythonSwitchNumber, let expected = g.cpythonHandOffs {
            let check = g.matchesCPython == true ? "matches" : "differs from"
            // switch_number counts changes of thread state; a thread that runs in several
            // interpreters sharing the GIL changes it without a hand-off to another thread.
            let within = ((g.sameThreadSwitches ?? 0) > 0
                ? " plus \(g.sameThreadSwitches ?? 0) changes of thread state within a thread (interpreters sharing the GIL)" : "")
                + ((g.reusedThreadStates ?? 0) > 0
                    ? " minus \(g.reusedThreadStates ?? 0) hand-offs CPython does not count (a new thread state at the address of the previous holder's)" : "")
            out.append("  CPython's own switch_number \(switches) (\(expected) hand-offs): \(check) the \(g.handOffs) recorded\(within)")
        }
        var table = TextTable(header: ["tid", "name", "lifetime", "holding GIL", "waiting for GIL", "running without GIL", "other (blocked)"])
        table.leftAligned = [0, 1]
        for t in threads {
            guard let times = t.gil else { continue }
            table.rows.append(["\(t.tid)", truncate(t.name, 20), Formatting.duration(t.lifetimeNanoseconds),
                               share(times.holdingNanoseconds, of: t.lifetimeNanoseconds),
                               share(times.waitingNanoseconds, of: t.lifetimeNanoseconds),
                               times.runningWithoutGILNanoseconds.map { share($0, of: t.lifetimeNanoseconds) } ?? "-",
                               times.otherNanoseconds.map { share($0, of: t.lifetimeNanoseconds) } ?? "-"])
        }
        return out + table.render() + PythonReport.details(g) + [""]
    }

    static func share(_ part: UInt64, of whole: UInt64) -> String {
        guard whole > 0 else { return Formatting.duration(part) }
        return "\(Formatting.duration(part)) (\(Formatting.percent(Double(part) / Double(whole))))"
    }

    /// `s` escaped for the terminal (TerminalText), then cut to `n` characters: never inside an escape sequence.
    static func truncate(_ s: String, _ n: Int) -> String {
        let safe = TerminalText.field(s)
        return safe.count <= n ? safe : String(safe.prefix(n - 1)) + "…"
    }
}
