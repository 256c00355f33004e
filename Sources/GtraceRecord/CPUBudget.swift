import Foundation

/// The cores a recording counts: the CPUs the command may run on (CPUAffinity),
/// capped by its cgroup's CPU quota when that is lower (a 1.5-CPU quota: 2).
struct CPUBudget {
    let affinity: CPUAffinity?
    let quota: CPUQuota?
    let cores: Int
    private let throttledAtStart: UInt64?

    /// Read before the spawn (the command starts with the recorder's affinity and cgroup).
    static func current() -> CPUBudget {
        let affinity = CPUAffinity.current()
        let allowed = affinity?.cores ?? CPUAffinity.onlineCores
        let quota = CPUQuota.current().flatMap { $0.cpus < Double(allowed) ? $0 : nil }
        return CPUBudget(affinity: affinity, quota: quota,
                         cores: quota.map { min(allowed, max(1, Int($0.cpus.rounded(.up)))) } ?? allowed,
                         throttledAtStart: quota?.throttledNanoseconds)
    }

    /// The trace's info entries at the end of the run: `cpus`, and `cpus_online`,
    /// `cpu_quota`, `cpu_throttled_ns` when they apply (docs/FORMAT.md, INFO).
    func info() -> [(String, String)] {
        var info = [("cpus", "\(cores)")]
        if let affinity, affinity.restricted != nil { info.append(("cpus_online", "\(affinity.online)")) }
        if let quota {
            info.append(("cpu_quota", String(format: "%.2f", quota.cpus)))
            if let start = throttledAtStart, let end = quota.throttledNanoseconds, end >= start { info.append(("cpu_throttled_ns", "\(end - start)")) }
        }
        return info
    }
}
