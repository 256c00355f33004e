import Foundation
import Testing

/// A command in a cgroup with a CPU quota of half a CPU (a container's
/// `--cpus=0.5`): two threads that each burn 150 ms of CPU take ~0.6 s. The
/// kernel's quota is the truth: the report must count one core, name the quota
/// as the limit with the time it throttled the threads, and its parallelism must
/// be the quota's. Before: "Serial parts: 2 workers on 2 cores reached
/// parallelism 0.52". Needs root and a cgroup cpu controller (v1 `cpu`, or v2
/// with `cpu` enabled); skipped without them.
@Suite(.serialized) struct CPUQuotaTests {
    /// A new cgroup with `quota` of `period` µs, and the file a process joins it by; nil when none can be made.
    static func makeCgroup(quota: Int, period: Int) -> (directory: String, procs: String)? {
        let name = "gtrace-test-\(getpid())"
        let v1 = "/sys/fs/cgroup/cpu"
        if FileManager.default.fileExists(atPath: v1 + "/cpu.cfs_quota_us") {
            let dir = "\(v1)/\(name)"
            guard mkdir(dir, 0o755) == 0 || errno == EEXIST,
                  (try? "\(period)".write(toFile: dir + "/cpu.cfs_period_us", atomically: false, encoding: .utf8)) != nil,
                  (try? "\(quota)".write(toFile: dir + "/cpu.cfs_quota_us", atomically: false, encoding: .utf8)) != nil else { return nil }
            return (dir, dir + "/cgroup.procs")
        }
        let v2 = "/sys/fs/cgroup"
        guard let controllers = try? String(contentsOfFile: v2 + "/cgroup.subtree_control", encoding: .utf8),
              controllers.split(separator: " ").contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "cpu" }) else { return nil }
        let dir = "\(v2)/\(name)"
        guard mkdir(dir, 0o755) == 0 || errno == EEXIST,
              (try? "\(quota) \(period)".write(toFile: dir + "/cpu.max", atomically: false, encoding: .utf8)) != nil else { return nil }
        return (dir, dir + "/cgroup.procs")
    }

    @Test func aHalfCPUQuotaIsTheLimitAndTheParallelismIsTheQuotas() throws {
        guard SchedulingTests.perfAllowed, getuid() == 0, let cgroup = Self.makeCgroup(quota: 50_000, period: 100_000) else { return }
        defer { rmdir(cgroup.directory) }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("cpu_threads", in: dir)
        let trace = "\(dir)/t.data"
        // The shell joins the cgroup, then becomes gtrace: the command starts in it.
        let recorded = try Harness.run("/bin/sh", ["-c", "echo $$ > \"$1\" && exec \"$2\" record -o \"$3\" -- \"$4\" 2 150",
                                                   "sh", cgroup.procs, Harness.gtrace, trace, workload])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let report = try Harness.reportJSON(trace)
        let summary = report["summary"] as? [String: Any] ?? [:]
        #expect(SchedulingTests.number(summary["cpuQuota"]) == 0.5, "\(summary["cpuQuota"] ?? "none")")
        #expect(SchedulingTests.number(summary["cpuThrottledNanoseconds"]) > 0)
        let p = ParallelismTests.parallelism(report)
        #expect(p["cores"] as? Int == 1)
        // The kernel held the tree to half a CPU: 300 ms of CPU over ~600 ms.
        let parallelism = SchedulingTests.number(p["averageParallelism"])
        #expect(abs(parallelism - 0.5) <= 0.1, "parallelism \(parallelism)")
        let limit = report["limit"] as? [String: Any] ?? [:]
        #expect(limit["kind"] as? String == "cpu quota", "\(limit)")
        let verdict = (report["verdict"] as? [String] ?? []).first ?? ""
        #expect(verdict.hasPrefix("Limited by its cgroup's CPU quota: the cgroup lets it use 0.50 CPUs"), "\(verdict)")
    }
}
