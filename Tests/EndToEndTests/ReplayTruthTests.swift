import Foundation
import Testing

/// The replay of a recording as it was must reproduce that run (the
/// self-replay), and its critical path must go through the thread or process
/// that really woke each wait (docs/METRICS.md, "Replay").
@Suite(.serialized) struct ReplayTruthTests {
    typealias S = SchedulingTests

    struct Run {
        var wall: Double
        var selfReplay: Double
        var criticalPath: [String: Any]
        var unexplained: [[String: Any]]
        var parallelism: [String: Any]
        var stdout = ""
    }

    static func record(_ command: [String], in dir: String, name: String) throws -> Run {
        let trace = "\(dir)/\(name).gtrace"
        let result = try Harness.gtrace(["record", "-o", trace, "--"] + command)
        #expect(result.status == 0, "\(name): \(result.stderr)")
        let p = ParallelismTests.parallelism(try Harness.reportJSON(trace))
        let replay = p["replayOfRecording"] as? [String: Any] ?? [:]
        return Run(wall: S.number(p["wallNanoseconds"]), selfReplay: S.number(replay["wallNanoseconds"]),
                   criticalPath: p["criticalPath"] as? [String: Any] ?? [:],
                   unexplained: p["unexplainedWaits"] as? [[String: Any]] ?? [], parallelism: p, stdout: result.stdout)
    }

    /// Time on the critical path per pid and per tid.
    static func pathShares(_ path: [String: Any]) -> [(pid: Int, tid: Int, ns: Double)] {
        (path["threads"] as? [[String: Any]] ?? []).map {
            ($0["pid"] as? Int ?? 0, $0["tid"] as? Int ?? 0, S.number($0["nanoseconds"]))
        }
    }

    static func describe(_ run: Run) -> String {
        let waits = run.unexplained.prefix(3).map { "\($0["what"] ?? "?") \(S.number($0["nanoseconds"]) / 1e6) ms" }
        return "wall \(run.wall / 1e6) ms, self-replay \(run.selfReplay / 1e6) ms, unexplained \(waits)"
    }

    @Test func pipePingPongReplaysThroughTheWriter() throws {
        guard S.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("pipe_pingpong", in: dir)
        let rounds = 30, parentUS = 2000.0, childUS = 1000.0
        try Remeasure.upTo(3, "pipe ping-pong") { timing in
            let run = try Self.record([workload, "\(rounds)", "2000", "1000"], in: dir, name: "pingpong")
            timing.expect(abs(run.selfReplay - run.wall) <= 0.10 * run.wall, "pipe ping-pong: \(Self.describe(run))")
            // Each read waits for the other process's write: both are on the path
            // with their whole work, joined by one hand-off per message.
            let shares = Self.pathShares(run.criticalPath)
            let byPid = Dictionary(shares.map { ($0.pid, $0.ns) }, uniquingKeysWith: +)
            let sorted = byPid.values.sorted(by: >)
            #expect(sorted.count >= 2, "both processes on the critical path: \(shares)")
            timing.expect(sorted.first ?? 0 >= 0.8 * Double(rounds) * parentUS * 1000, "parent's work on the path: \(shares)")
            timing.expect(sorted.dropFirst().first ?? 0 >= 0.8 * Double(rounds) * childUS * 1000, "child's work on the path: \(shares)")
            #expect(S.number(run.criticalPath["waitsForOthers"]) >= Double(rounds), "hand-offs on the path: \(run.criticalPath)")
        }
    }

    @Test func sigchldReapingWaitsForTheReapedChild() throws {
        guard S.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("sigchld_reap", in: dir)
        let jobs = 6, parallel = 2, workUS = 20000.0
        try Remeasure.upTo(3, "SIGCHLD reaping") { timing in
            let run = try Self.record([workload, "\(jobs)", "\(parallel)", "20000"], in: dir, name: "reap")
            timing.expect(abs(run.selfReplay - run.wall) <= 0.10 * run.wall, "SIGCHLD + WNOHANG: \(Self.describe(run))")
            // The parent's pselect waits for the child it then reaps: one child per
            // round of PARALLEL jobs is on the path with its whole work.
            let shares = Self.pathShares(run.criticalPath)
            let root = shares.map(\.pid).min() ?? 0
            let children = shares.filter { $0.pid != root && $0.ns >= 0.8 * workUS * 1000 }
            timing.expect(children.count >= jobs / parallel, "children on the critical path: \(shares)")
            // On one core the children's work adds up.
            let oneCore = ParallelismTests.prediction(run.parallelism, "as recorded", cores: 1)
            timing.expect(oneCore >= 0.9 * Double(jobs) * workUS * 1000, "1-core prediction \(oneCore / 1e6) ms")
        }
    }

    @Test func conditionWaitsEndAtTheSignal() throws {
        guard S.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("cond_pc", in: dir)
        let items = 30, produceUS = 2000.0
        try Remeasure.upTo(3, "producer/consumer") { timing in
            let run = try Self.record([workload, "\(items)", "2000", "1000"], in: dir, name: "condpc")
            timing.expect(abs(run.selfReplay - run.wall) <= 0.10 * run.wall, "producer/consumer: \(Self.describe(run))")
            // The consumer waits for each item: the path runs through the producer
            // (its whole work) and ends in the consumer.
            let shares = Self.pathShares(run.criticalPath).sorted { $0.ns > $1.ns }
            timing.expect((shares.first?.ns ?? 0) >= 0.8 * Double(items) * produceUS * 1000, "producer on the path: \(shares)")
            #expect(shares.count >= 2, "the consumer ends the path: \(shares)")
            let length = S.number(run.criticalPath["lengthNanoseconds"])
            timing.expect(length <= 1.5 * Double(items) * produceUS * 1000 + 50e6, "critical path \(length / 1e6) ms")
        }
    }

    /// A semaphore hand-off beside a thread that naps every 5 ms: the consumer's
    /// sem_wait ends at the producer's sem_post (recorded as a waker), not at the
    /// napper, whose events are often the latest when the consumer wakes.
    @Test func semaphoreWaitsEndAtThePost() throws {
        guard S.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("sem_pc", in: dir)
        let items = 30, produceUS = 3000.0
        try Remeasure.upTo(3, "semaphore hand-off") { timing in
            // The consumer waits ~2 ms per item: over the 1 ms from which a wait is listed as unexplained.
            let run = try Self.record([workload, "\(items)", "3000", "1000"], in: dir, name: "sempc")
            timing.expect(abs(run.selfReplay - run.wall) <= 0.10 * run.wall, "semaphore hand-off: \(Self.describe(run))")
            // The path runs through the producer's work (the workload prints its tid).
            let producer = Int(run.stdout.split(separator: "\n").first { $0.hasPrefix("producer_tid ") }?.dropFirst(13) ?? "") ?? -1
            let shares = Self.pathShares(run.criticalPath)
            let onPath = shares.filter { $0.tid == producer }.reduce(0.0) { $0 + $1.ns }
            timing.expect(onPath >= 0.8 * Double(items) * produceUS * 1000, "producer \(producer) on the path: \(shares)")
            let guessed = run.unexplained.filter { ($0["what"] as? String ?? "").hasPrefix("sem_wait") }
            #expect(guessed.isEmpty, "sem_wait waits with a guessed waker: \(guessed)")
        }
    }

    /// Every seed experiment in each of its modes, small sizes: the median of
    /// three self-replays is within 15% of the median measured wall.
    static let seeds: [(String, [String], [String])] = [
        ("seed1_count.py", ["serial", "threads", "processes"], ["--workers", "4", "--size", "500000"]),
        ("seed2_count_sleep.py", ["serial", "threads", "processes"], ["--workers", "4", "--size", "20000", "--sleep", "0.05"]),
        ("seed3_count_sleep_processes.py", ["processes", "serial"], ["--workers", "4", "--size", "20000", "--sleep", "0.05"]),
        ("seed4_pool.py", ["serial", "pool", "processes"], ["--workers", "2", "--size", "200000", "--items", "6"]),
        ("seed5_sum.py", ["serial", "threads", "processes"], ["--workers", "2", "--size", "20000000"]),
        ("seed6_fibo.py", ["serial", "threads", "processes"], ["--workers", "3", "--size", "24"]),
        ("seed7_subprocess.py", ["serial", "threads", "processes"], ["--workers", "3", "--seconds", "0.2"]),
        ("seed8_release_gil.py", ["serial", "threads"], ["--workers", "2", "--size", "64"]),
    ]

    @Test(arguments: seeds)
    func seedExperimentReplaysItsOwnRun(script: String, modes: [String], size: [String]) throws {
        guard S.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(Harness.packageRoot)/tools/workloads/\(script)"
        for mode in modes {
            try Remeasure.upTo(3, "\(script) \(mode)") { timing in
                var runs: [Run] = []
                for i in 0..<3 {
                    runs.append(try Self.record([ParallelismTests.python, path, mode] + size, in: dir, name: "\(mode)\(i)"))
                }
                let ratios = runs.map { $0.wall > 0 ? $0.selfReplay / $0.wall : 0 }.sorted()
                let median = ratios[1]
                timing.expect(abs(median - 1) <= 0.15, "\(script) \(mode): self-replay ÷ wall \(ratios); \(runs.map(Self.describe))")
                print("\(script) \(mode): " + runs.map { "wall \(Int($0.wall / 1e6)) ms self-replay \(Int($0.selfReplay / 1e6)) ms" }.joined(separator: "; "))
            }
        }
    }
}
