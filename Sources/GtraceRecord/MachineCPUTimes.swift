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

    /// nil when /proc/stat cannot be read or has no steal column (kernels before 2.6.11).
    static func read() -> MachineCPUTimes? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let ticks = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard ticks.count >= 8 else { return nil }
        let perTick = UInt64(1_000_000_000 / max(1, sysconf(Int32(_SC_CLK_TCK))))
        return MachineCPUTimes(busyNanoseconds: (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) * perTick,
                               idleNanoseconds: (ticks[3] + ticks[4]) * perTick,
                               stealNanoseconds: ticks[7] * perTick)
    }

    /// The trace's info entries for the time between `start` and `end`.
    static func info(from start: MachineCPUTimes?, to end: MachineCPUTimes?) -> [(String, String)] {
        guard let start, let end else { return [] }
        func delta(_ a: UInt64, _ b: UInt64) -> String { "\(b >= a ? b - a : 0)" }
        return [("machine_busy_ns", delta(start.busyNanoseconds, end.busyNanoseconds)),
                ("machine_idle_ns", delta(start.idleNanoseconds, end.idleNanoseconds)),
                ("machine_steal_ns", delta(start.stealNanoseconds, end.stealNanoseconds))]
    }
}
