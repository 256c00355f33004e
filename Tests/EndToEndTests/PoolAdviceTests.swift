import Foundation
import Testing

/// The verdict's advice for a pool of workers that wait: "a bigger pool" only when
/// each worker went through several waits, and then a bigger pool, run untraced in
/// the same test, is faster.
@Suite(.serialized) struct PoolAdviceTests {
    static let script = "\(Harness.packageRoot)/tools/workloads/pool_sleep.py"

    static func verdict(_ trace: String) throws -> String {
        (try Harness.reportJSON(trace)["verdict"] as? [String] ?? []).joined(separator: " ")
    }

    /// `wall S` as printed by pool_sleep.py, in seconds.
    static func wall(_ stdout: String) -> Double {
        Double(stdout.split(separator: "\n").first { $0.hasPrefix("wall ") }?.dropFirst(5) ?? "") ?? -1
    }

    /// http: the pool's items are requests to a local server with a thread per
    /// request; those short threads, one sleep each, do not outvote the pool.
    @Test(arguments: ["threads", "processes", "http"])
    func aPoolOfSleepersIsToldABiggerPoolHelpsAndItDoes(kind: String) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", ParallelismTests.python, Self.script, kind, "2", "12", "0.05"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let verdict = try Self.verdict(trace)
        #expect(verdict.contains("more workers (a bigger pool) would overlap more of the waits"), "\(verdict)")
        // The truth: the same items with three times the workers, untraced.
        try Remeasure.upTo(3, "\(kind) pool of 2 against 6") { timing in
            let small = try Harness.run(ParallelismTests.python, [Self.script, kind, "2", "12", "0.05"])
            let big = try Harness.run(ParallelismTests.python, [Self.script, kind, "6", "12", "0.05"])
            timing.expect(Self.wall(big.stdout) > 0 && Self.wall(big.stdout) < 0.6 * Self.wall(small.stdout),
                          "2 workers \(Self.wall(small.stdout)) s, 6 workers \(Self.wall(big.stdout)) s")
        }
    }

    /// One wait per worker (seed 2's shape): all the work there is already overlaps.
    /// The waits are 0.3 s: with 0.1 s the interpreter's start-up was half the run on a
    /// slower VM, and 1 run in 3 was "One busy thread did the work" (the main thread's
    /// imports were the only CPU work), which is not false, only not this test's shape.
    @Test func oneWaitPerWorkerGetsNoPoolAdvice() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        #expect(try Harness.gtrace(["record", "-o", trace, "--", ParallelismTests.python, Self.script, "threads", "4", "4", "0.3"]).status == 0)
        let verdict = try Self.verdict(trace)
        #expect(verdict.contains("waiting"), "\(verdict)")
        #expect(!verdict.contains("bigger pool"), "\(verdict)")
    }

    /// Writers of one sqlite database (tools/workloads/py_sqlite_writers.py): each
    /// sleeps in sqlite's busy handler while another holds the database's lock, one
    /// wait after another, like a pool's sleeps; but the lock (byte ranges of the
    /// file, which gtrace does not record) lets one writer in at a time, and the file's
    /// syncs are waits gtrace cannot see. More workers do not help: no pool advice.
    /// (Before: "more workers (a bigger pool) would overlap more of the waits".)
    @Test func writersOfOneDatabaseGetNoPoolAdvice() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "\(Harness.packageRoot)/tools/workloads/py_sqlite_writers.py"
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", ParallelismTests.python, script, "2", "600", "\(dir)/db"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let verdict = try Self.verdict(trace)
        #expect(!verdict.contains("bigger pool"), "\(verdict)")
        // The truth: twice the writers, untraced, are not faster.
        try Remeasure.upTo(3, "sqlite writers, 2 against 4") { timing in
            let two = try Harness.run(ParallelismTests.python, [script, "2", "600", "\(dir)/db"])
            let four = try Harness.run(ParallelismTests.python, [script, "4", "600", "\(dir)/db"])
            timing.expect(Self.wall(four.stdout) > 0.85 * Self.wall(two.stdout),
                          "2 writers \(Self.wall(two.stdout)) s, 4 writers \(Self.wall(four.stdout)) s")
        }
    }
}
