import Foundation

/// The machine's CPU time by kind, from the "cpu" line of /proc/stat, read at
/// the spawn and at the end of the tree. The difference tells the report how
/// much of the recording's CPU time the hypervisor gave to other virtual
/// machines ("steal"): perf counts stolen time as on-CPU time of whatever
/// thread the vCPU was running, while a thread's CPU clock does not, and every
/// wall time stretches by it (docs/METRICS.md, "Steal").
struct MachineCPUTimes {
    /// user + nice + system + irq + softirq.
    var busyNanoseconds: UInt64
    /// idle + iowait.
    var idleNanoseconds: UInt64
    var stealNanoseconds: UInt64
    /// The CPUs' idle time to the microsecond (cpuidle's per-state residency, summed
    /// over CPUs and states) and when it was read; nil without cpuidle (many virtual
    /// machines). /proc/stat counts in 10 ms ticks: the report allows for them then.
    var preciseIdleNanoseconds: UInt64?
    /// Σ cpuidle state entries (`usage`) over the CPUs and states, read with it.
    var idleEntries: UInt64?
    var readAtMonotonicNanoseconds: UInt64 = 0

    /// nil when /proc/stat cannot be read or has no steal column (kernels before 2.6.11).
    /// `cpus`: only these CPUs (the command's affinity); nil: all.
    static func read(cpus: [Int]? = nil) -> MachineCPUTimes? {
        guard var times = readStat(cpus: cpus) else { return nil }
        if let (idle, entries) = cpuidle(cpus: cpus) {
            times.preciseIdleNanoseconds = idle
            times.idleEntries = entries
        }
        times.readAtMonotonicNanoseconds = Clocks.now().monotonic
        return times
    }

    /// Σ /sys/devices/system/cpu/cpuN/cpuidle/stateK/time (µs) over the online CPUs, and
    /// Σ …/stateK/usage (entries into the state; 0 when unreadable).
    private static func cpuidle(cpus only: [Int]?) -> (nanoseconds: UInt64, entries: UInt64)? {
        let root = "/sys/devices/system/cpu"
        let cpus = (try? FileManager.default.contentsOfDirectory(atPath: root))?
            .filter { $0.hasPrefix("cpu") && $0.dropFirst(3).allSatisfy(\.isNumber) && $0.count > 3 }
            .filter { name in only.map { $0.contains(Int(name.dropFirst(3)) ?? -1) } ?? true } ?? []
        guard !cpus.isEmpty else { return nil }
        var total: UInt64 = 0, entries: UInt64 = 0
        for cpu in cpus {
            let dir = "\(root)/\(cpu)/cpuidle"
            guard let states = try? FileManager.default.contentsOfDirectory(atPath: dir), !states.isEmpty else { return nil }
            for state in states where state.hasPrefix("state") {
                guard let text = try? String(contentsOfFile: "\(dir)/\(state)/time", encoding: .utf8),
                      let us = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
                total &+= us &* 1000
                if let text = try? String(contentsOfFile: "\(dir)/\(state)/usage", encoding: .utf8),
                   let n = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) { entries &+= n }
            }
        }
        return (total, entries)
    }

    private static func readStat(cpus: [Int]?) -> MachineCPUTimes? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        // The "cpu" line sums all CPUs; "cpuN" lines are one CPU each.
        let lines = text.split(separator: "\n").filter { line in
            guard let cpus else { return line.hasPrefix("cpu ") }
            guard line.hasPrefix("cpu"), let name = line.split(separator: " ").first, let n = Int(name.dropFirst(3)) else { return false }
            return cpus.contains(n)
        }
        guard !lines.isEmpty else { return nil }
        var ticks = [UInt64](repeating: 0, count: 8)
        for line in lines {
            let values = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
            guard values.count >= 8 else { return nil }
            for i in 0..<8 { ticks[i] += values[i] }
        }
        let perTick = UInt64(1_000_000_000 / max(1, sysconf(Int32(_SC_CLK_TCK))))
        return MachineCPUTimes(busyNanoseconds: (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) * perTick,
                               idleNanoseconds: (ticks[3] + ticks[4]) * perTick,
                               stealNanoseconds: ticks[7] * perTick)
    }

    /// The trace's info entries for the time between `start` and `end`.
    static func info(from start: MachineCPUTimes?, to end: MachineCPUTimes?) -> [(String, String)] {
        guard let start, let end else { return [] }
        func delta(_ a: UInt64, _ b: UInt64) -> String { "\(b >= a ? b - a : 0)" }
        var info = [("machine_busy_ns", delta(start.busyNanoseconds, end.busyNanoseconds)),
                    ("machine_idle_ns", delta(start.idleNanoseconds, end.idleNanoseconds)),
                    ("machine_steal_ns", delta(start.stealNanoseconds, end.stealNanoseconds))]
        guard end.readAtMonotonicNanoseconds > start.readAtMonotonicNanoseconds else { return info }
        // The window, with or without cpuidle: without it the report checks foreign load
        // against /proc/stat's idle time, at its 10 ms resolution.
        info.append(("machine_window_ns", "\(end.readAtMonotonicNanoseconds - start.readAtMonotonicNanoseconds)"))
        if let a = start.preciseIdleNanoseconds, let b = end.preciseIdleNanoseconds, b >= a {
            info.append(("machine_cpuidle_ns", "\(b - a)"))
            if let e0 = start.idleEntries, let e1 = end.idleEntries, e1 >= e0 { info.append(("machine_cpuidle_entries", "\(e1 - e0)")) }
        }
        return info
    }
}
