import CGtraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The CPUs `gtrace record` may run on, which the command inherits: all the
/// online CPUs, or fewer under `taskset` or a cpuset (a container's
/// `--cpuset-cpus`). A command confined to one CPU of two was "Serial parts …
/// on 2 cores reached parallelism 0.99", with its wait for the CPU counted as
/// slow wake-ups: the report counts the cores the command could use.
struct CPUAffinity {
    /// The allowed CPUs' numbers, ascending.
    let allowed: [Int]
    let online: Int

    /// Nil when the affinity cannot be read.
    static func current() -> CPUAffinity? {
        var cpus = [Int32](repeating: 0, count: 4096)
        let count = Int(gtrace_affinity_cpus(&cpus, Int32(cpus.count)))
        guard count > 0, count <= cpus.count else { return nil }
        return CPUAffinity(allowed: cpus.prefix(count).map(Int.init), online: onlineCores)
    }

    /// Fewer CPUs allowed than online: the machine's counters are read for these only.
    var restricted: [Int]? { allowed.count < online ? allowed : nil }

    /// The cores the recording counts.
    var cores: Int { min(allowed.count, online) }

    /// The cores of a recording without a readable affinity: the online CPUs.
    static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
