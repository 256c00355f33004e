import GtraceAnalysis
import GtraceFormat

/// The terminal report: run summary, lock table, thread table.
public enum TextReport {
    public static func render(_ a: TraceAnalysis, maxLocks: Int = 20) -> String {
        var out: [String] = []
        let s = a.summary
        out.append("gtrace report: \(s.trace)")
        if !s.command.isEmpty { out.append("command: \(s.command)") }
        out.append("wall time \(Formatting.duration(s.wallNanoseconds)), CPU time \(Formatting.duration(s.cpuNanoseconds)) "
                   + "(user \(Formatting.duration(s.userCPUNanoseconds)), system \(Formatting.duration(s.systemCPUNanoseconds))), "
                   + "\(s.processCount) process\(s.processCount == 1 ? "" : "es"), \(s.threadCount) thread\(s.threadCount == 1 ? "" : "s"), "
                   + "\(s.lockCount) lock\(s.lockCount == 1 ? "" : "s"), \(s.eventCount) events")
        out.append("")

        out.append("Processes")
        var processes = TextTable(header: ["pid", "ppid", "lifetime", "CPU", "threads", "end", "command"])
        processes.leftAligned = [0, 5, 6]
        for p in a.processes {
            let end = p.exit == ExitKind.unknown.label ? p.exit : "\(p.exit) \(p.exitStatus)"
            processes.rows.append(["\(p.pid)", "\(p.ppid)", Formatting.duration(p.lifetimeNanoseconds),
                                   Formatting.duration(p.cpuNanoseconds), "\(p.threadCount)", end, truncate(p.command, 60)])
        }
        out += processes.render()
        out.append("")

        let used = a.locks.filter { $0.acquisitions > 0 || $0.waitCount > 0 || $0.trylockBusy > 0 }
        out.append("Locks by hold ratio (\(used.count) used\(used.count > maxLocks ? ", top \(maxLocks) shown" : ""))")
        if used.isEmpty {
            out.append("  no lock was acquired")
        } else {
            var locks = TextTable(header: ["lock", "pid", "kind", "acquired", "contended", "owner chg",
                                           "hold total", "mean", "max", "p99", "hold ratio",
                                           "wait total", "mean", "max", "wait ratio"])
            locks.leftAligned = [0, 2]
            for l in used.prefix(maxLocks) {
                locks.rows.append([l.address, "\(l.pid)", l.kind, "\(l.acquisitions)",
                                   Formatting.percent(l.contendedPercent / 100), "\(l.ownerChanges)",
                                   Formatting.duration(l.holdTotalNanoseconds), Formatting.duration(l.holdMeanNanoseconds),
                                   Formatting.duration(l.holdMaxNanoseconds), Formatting.duration(l.holdP99Nanoseconds),
                                   Formatting.percent(l.holdRatio), Formatting.duration(l.waitTotalNanoseconds),
                                   Formatting.duration(l.waitMeanNanoseconds), Formatting.duration(l.waitMaxNanoseconds),
                                   Formatting.percent(l.waitRatio)])
            }
            out += locks.render()
        }
        out.append("")

        out.append("Threads")
        var threads = TextTable(header: ["tid", "pid", "name", "lifetime", "CPU", "acquired", "holding locks",
                                         "waiting for locks", "cond waits", "ended"])
        threads.leftAligned = [0, 2, 9]
        for t in a.threads {
            threads.rows.append(["\(t.tid)", "\(t.pid)", truncate(t.name, 24), Formatting.duration(t.lifetimeNanoseconds),
                                 t.cpuNanoseconds.map(Formatting.duration) ?? "-", "\(t.acquisitions)",
                                 share(t.holdingNanoseconds, of: t.lifetimeNanoseconds),
                                 share(t.waitingNanoseconds, of: t.lifetimeNanoseconds),
                                 Formatting.duration(t.conditionWaitNanoseconds), t.ended])
        }
        out += threads.render()
        if !a.warnings.isEmpty {
            out.append("")
            out += a.warnings.map { "warning: \($0)" }
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func share(_ part: UInt64, of whole: UInt64) -> String {
        guard whole > 0 else { return Formatting.duration(part) }
        return "\(Formatting.duration(part)) (\(Formatting.percent(Double(part) / Double(whole))))"
    }

    static func truncate(_ s: String, _ n: Int) -> String {
        s.count <= n ? s : String(s.prefix(n - 1)) + "…"
    }
}
