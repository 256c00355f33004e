import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// getrusage's CPU times in nanoseconds: the recorder's own (`RUSAGE_SELF`) or its
/// reaped descendants' (`RUSAGE_CHILDREN`).
enum ResourceUsage {
    static func cpuNanoseconds(_ who: __rusage_who) -> (user: UInt64, system: UInt64) {
        var usage = rusage()
        getrusage(who.rawValue, &usage)
        func ns(_ t: timeval) -> UInt64 { UInt64(max(0, t.tv_sec)) * 1_000_000_000 + UInt64(max(0, t.tv_usec)) * 1000 }
        return (ns(usage.ru_utime), ns(usage.ru_stime))
    }
}
