import Foundation
import Testing

/// Threads' first chunks as slots of shared arena files (arena.c), and tids
/// the kernel reuses within one process.
@Suite(.serialized) struct ArenaTests {
    static func info(_ dump: [String], _ key: String) -> Int {
        dump.first { $0.hasPrefix("info \(key)=") }.flatMap { Int($0.split(separator: "\"")[1]) } ?? -1
    }

    /// 300 threads start at once: past the first arenas (4, 16, 64 and 128 slots),
    /// some while another thread creates the next arena (they make files of
    /// their own). Every pair of every thread is kept, and the live scan of
    /// the slots finds what a full scan finds.
    @Test func threadsPastSeveralArenasKeepEveryEvent() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let load = try Harness.buildWorkload("\(Harness.packageRoot)/tools/bench/scale_load.c", in: dir)
        let trace = "\(dir)/t.data"
        var environment = ProcessInfo.processInfo.environment
        environment["GTRACE_CHECK_LIVE_SCAN"] = "1"
        let result = try Harness.gtrace(["record", "-o", trace, "--", load, "1", "300", "1000"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("live scan differs"), "\(result.stderr)")
        #expect(!result.stderr.contains("lost"), "\(result.stderr)")
        let report = try Harness.reportJSON(trace)
        let threads = try #require(report["threads"] as? [[String: Any]])
        #expect(threads.filter { $0["acquisitions"] as? Int == 1000 }.count == 300, "\(threads.map { $0["acquisitions"] ?? 0 })")
        let dump = try Harness.dump(trace)
        let slots = Self.info(dump, "buffer_arena_slots")
        // The main thread makes its own; more than the first three arenas hold went to slots.
        #expect(slots > 4 + 16 + 64 && slots <= 300, "\(dump.filter { $0.hasPrefix("info buffer") })")
    }

    /// A program that keeps starting threads: an arena is unmapped once all of
    /// its slots' threads have ended, so the process does not keep every arena
    /// it ever used mapped (2000 threads fill ~20 of them).
    @Test func aProgramThatKeepsStartingThreadsKeepsOneArenaMapped() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("thread_churn", in: dir)
        let untraced = try Harness.run(workload, ["2000"])
        #expect(untraced.stdout.hasPrefix("threads 2000 arena_mappings 0 buffer_mappings 0 cpu_us "))
        let trace = "\(dir)/t.data"
        let result = try Harness.gtrace(["record", "-o", trace, "--", workload, "2000"])
        #expect(result.status == 0, "\(result.stderr)")
        let words = result.stdout.split(whereSeparator: \.isWhitespace)
        let arenas = try #require(words.count == 8 ? Int(words[3]) : nil, "\(result.stdout)")
        // The newest arena stays while it has unclaimed slots (none when the last thread filled it).
        #expect(arenas <= 1, "\(result.stdout)")
        let threads = try #require(try Harness.reportJSON(trace)["threads"] as? [[String: Any]])
        #expect(threads.filter { $0["acquisitions"] as? Int == 1 }.count == 2000)
        #expect(Self.info(try Harness.dump(trace), "buffer_arena_slots") == 2000)
    }

    /// A thread's last time on a CPU ends after perf's exit record, which perf
    /// cannot see: 2000 short threads one after another used ~40% more CPU
    /// (getrusage) than perf's switches showed. The parallelism's CPU time is
    /// then getrusage's, within a fifth of the program's own count (measured
    /// before it exits, so a little less).
    @Test func shortThreadsCPUTimeIsTheKernelsCount() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("thread_churn", in: dir)
        let trace = "\(dir)/t.data"
        let result = try Harness.gtrace(["record", "-o", trace, "--", workload, "2000"])
        #expect(result.status == 0, "\(result.stderr)")
        let words = result.stdout.split(whereSeparator: \.isWhitespace)
        let own = try #require(words.count == 8 ? Double(words[7]) : nil, "\(result.stdout)") * 1000
        let parallelism = try #require(try Harness.reportJSON(trace)["parallelism"] as? [String: Any])
        let cpu = SchedulingTests.number(parallelism["cpuNanoseconds"])
        #expect(abs(cpu - own) <= 0.2 * own, "report \(cpu / 1e6) ms, the program's own \(own / 1e6) ms (\(parallelism["cpuSource"] ?? ""))")
    }

    /// A thread other than the main one forks; the child starts threads of its
    /// own. The child unmaps its parent's arenas and makes its own: each process
    /// keeps exactly its own threads' pairs.
    @Test func aChildForkedByAThreadKeepsItsOwnThreads() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("fork_from_threads", in: dir)
        let trace = "\(dir)/t.data"
        let result = try Harness.gtrace(["record", "-o", trace, "--", workload, "12", "300"])
        #expect(result.status == 0, "\(result.stderr)")
        let words = result.stdout.split(separator: " ")
        let parent = try #require(words.count >= 4 ? Int(words[1]) : nil, "\(result.stdout)")
        let child = try #require(words.count >= 4 ? Int(words[3]) : nil, "\(result.stdout)")
        let threads = try #require(try Harness.reportJSON(trace)["threads"] as? [[String: Any]])
        for pid in [parent, child] {
            let mine = threads.filter { $0["pid"] as? Int == pid }
            #expect(mine.filter { $0["acquisitions"] as? Int == 300 }.count == 12, "pid \(pid): \(mine.map { $0["acquisitions"] ?? 0 })")
            // The parent's main thread and, in the child, the forking thread: no pairs there.
            #expect(mine.count == 13, "pid \(pid): \(mine.count) threads")
        }
    }

    /// More threads, one after another, than the kernel has tids (pid_max):
    /// tids come round again within the process. Each thread is its own in the
    /// trace, with its own pair and its own time on a CPU. Before, the
    /// recording failed: "corrupt trace … thread ends before it starts".
    @Test func threadsThatReuseTidsAreEachTheirOwn() throws {
        let pidMax = Int(try String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        // Enough for reuse where pid_max is small (32768 here); 40000 at most.
        let count = min(pidMax + 2000, 40000)
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("\(Harness.packageRoot)/tools/bench/thread_start.c", in: dir)
        let trace = "\(dir)/t.data"
        let result = try Harness.gtrace(["record", "-o", trace, "--", workload, "\(count)", "1"])
        try #require(result.status == 0, "\(result.stderr)")
        let report = try Harness.reportJSON(trace)
        let threads = try #require(report["threads"] as? [[String: Any]])
        #expect(threads.count == count + 1)
        #expect(threads.filter { $0["acquisitions"] as? Int == 1 }.count == count)
        let tids = Set(threads.compactMap { $0["tid"] as? Int })
        if count > pidMax { #expect(tids.count < threads.count, "no tid came round: \(tids.count) tids") }
        // A thread runs for microseconds; none spans a later thread's life.
        let longest = threads.dropFirst().map { ($0["lifetimeNanoseconds"] as? Int) ?? 0 }.max() ?? 0
        #expect(longest < 50_000_000, "a worker lived \(Double(longest) / 1e6) ms")
        // On-CPU time from perf's switches over the wall time: at most the cores.
        let parallelism = try #require(report["parallelism"] as? [String: Any])
        let average = try #require(parallelism["averageParallelism"] as? Double), cores = try #require(parallelism["cores"] as? Int)
        #expect(average > 0 && average <= Double(cores) * 1.02, "parallelism \(average) on \(cores) cores")
    }
}
