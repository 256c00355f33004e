import Foundation

/// The CPU time the command's cgroup lets it use (a container's `--cpus`, a
/// Kubernetes CPU limit): cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us` over
/// `cpu.cfs_period_us`, the smallest along the path from the recorder's cgroup
/// to the root (the command starts in the recorder's cgroup). A quota below the
/// allowed CPUs caps the cores the report counts; the time the quota held the
/// cgroup's threads back (`cpu.stat` throttled time of that cgroup) looked like
/// other programs holding the CPUs.
struct CPUQuota {
    /// quota ÷ period: CPUs' worth of time per period.
    var cpus: Double
    /// The directory of the cgroup whose quota it is (for its throttled time).
    var directory: String
    /// cgroup v2 (`cpu.stat` in µs) or v1 (in ns).
    var isV2: Bool

    /// The tightest quota over the recorder's cgroups; nil when there is none or it cannot be read.
    static func current() -> CPUQuota? {
        guard let cgroups = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let mountinfo = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var best: CPUQuota?
        for line in cgroups.split(separator: "\n") {
            // hierarchy-ID:controllers:path ("0::/path" for v2).
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let controllers = parts[1].split(separator: ",")
            let isV2 = parts[0] == "0" && parts[1].isEmpty
            guard isV2 || controllers.contains("cpu") else { continue }
            guard let (mountPoint, root) = mount(of: isV2 ? nil : "cpu", in: mountinfo) else { continue }
            var path = String(parts[2])
            if root != "/", path.hasPrefix(root) { path = String(path.dropFirst(root.count)) }
            var directory = mountPoint + (path == "/" ? "" : path)
            while directory.count >= mountPoint.count {
                if let cpus = isV2 ? v2Quota(directory) : v1Quota(directory), cpus < (best?.cpus ?? .infinity) {
                    best = CPUQuota(cpus: cpus, directory: directory, isV2: isV2)
                }
                guard directory != mountPoint, let slash = directory.lastIndex(of: "/") else { break }
                directory = String(directory[..<slash])
            }
        }
        return best
    }

    /// The time the cgroup's threads were throttled so far, in nanoseconds.
    var throttledNanoseconds: UInt64? {
        guard let text = try? String(contentsOfFile: directory + "/cpu.stat", encoding: .utf8) else { return nil }
        let key = isV2 ? "throttled_usec" : "throttled_time"
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == key, let value = UInt64(fields[1]) { return isV2 ? value &* 1000 : value }
        }
        return nil
    }

    /// The mount point and root of the cgroup hierarchy with `controller` (v1), or of cgroup2 (nil).
    private static func mount(of controller: String?, in mountinfo: String) -> (String, String)? {
        for line in mountinfo.split(separator: "\n") {
            // ID parent major:minor root mountpoint options … - fstype source superoptions
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " "), tail = halves[1].split(separator: " ")
            guard fields.count >= 5, tail.count >= 3 else { continue }
            if let controller {
                guard tail[0] == "cgroup", tail[2].split(separator: ",").contains(Substring(controller)) else { continue }
            } else {
                guard tail[0] == "cgroup2" else { continue }
            }
            return (String(fields[4]), String(fields[3]))
        }
        return nil
    }

    private static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `cpu.max`: "max 100000" (none) or "50000 100000".
    private static func v2Quota(_ directory: String) -> Double? {
        guard let fields = read(directory + "/cpu.max")?.split(separator: " "), fields.count == 2,
              let quota = Double(fields[0]), let period = Double(fields[1]), quota > 0, period > 0 else { return nil }
        return quota / period
    }

    /// `cpu.cfs_quota_us` (-1: none) over `cpu.cfs_period_us`.
    private static func v1Quota(_ directory: String) -> Double? {
        guard let quota = read(directory + "/cpu.cfs_quota_us").flatMap(Double.init),
              let period = read(directory + "/cpu.cfs_period_us").flatMap(Double.init), quota > 0, period > 0 else { return nil }
        return quota / period
    }
}
