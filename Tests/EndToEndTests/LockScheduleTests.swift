import Foundation
import Testing

/// Records tools/workloads/lock_schedule (a lock schedule known in advance) and
/// checks the report against the schedule and the program's own measurements.
@Suite(.serialized) struct LockScheduleTests {
    struct Truth: Decodable {
        struct PerThread: Decodable {
            var tid: Int
            var hold_ns: Double
            var wait_ns: Double
            var acquisitions: Int
        }
        var lock_address: String
        var threads: Int
        var iterations: Int
        var hold_us: Int
        var acquisitions: Int
        var hold_ns_total: Double
        var wait_ns_total: Double
        var wall_ns: Double
        var per_thread: [PerThread]
    }

    static func within(_ value: Double, _ expected: Double, _ tolerance: Double) -> Bool {
        abs(value - expected) <= tolerance * abs(expected)
    }

    @Test(arguments: [(4, 25, 5000), (2, 40, 2000), (1, 20, 1000)])
    func reportMatchesTheSchedule(threads: Int, iterations: Int, holdMicroseconds: Int) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("lock_schedule", in: dir)
        let trace = "\(dir)/t.data"
        try Remeasure.upTo(3, "lock schedule \(threads) threads") { timing in
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", workload, "\(threads)", "\(iterations)", "\(holdMicroseconds)"])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            #expect(recorded.stderr.contains("gtrace: recorded "))
            let truth = try JSONDecoder().decode(Truth.self, from: recorded.stdoutData)
            let n = threads * iterations

            let report = try Harness.reportJSON(trace)
            let locks = try #require(report["locks"] as? [[String: Any]])
            let lock = try #require(locks.first { $0["address"] as? String == truth.lock_address },
                                    "lock \(truth.lock_address) in \(locks.map { $0["address"] ?? "" })")
            // Counts are exact.
            #expect(lock["acquisitions"] as? Int == n)
            #expect(lock["contendedAcquisitions"] as? Int == (threads > 1 ? n - 1 : 0))
            #expect(lock["ownerChanges"] as? Int == (threads > 1 ? n - 1 : 0))
            #expect(lock["failedAcquisitions"] as? Int == 0)
            // Times within 5% of the program's own clock, and of the schedule.
            let hold = try #require(lock["holdTotalNanoseconds"] as? Double)
            let wait = try #require(lock["waitTotalNanoseconds"] as? Double)
            #expect(Self.within(hold, truth.hold_ns_total, 0.05), "hold \(hold) vs \(truth.hold_ns_total)")
            #expect(hold >= Double(n * holdMicroseconds * 1000) * 0.99, "every hold lasts at least HOLD_US")
            if threads > 1 {
                #expect(Self.within(wait, truth.wait_ns_total, 0.05), "wait \(wait) vs \(truth.wait_ns_total)")
            } else {
                #expect(wait == 0)
            }
            // Hold ratio = held time / wall time of the run.
            let summary = try #require(report["summary"] as? [String: Any])
            let wall = try #require(summary["wallNanoseconds"] as? Double)
            timing.expect(wall >= truth.wall_ns && wall < truth.wall_ns * 1.25 + 50e6, "wall \(wall) vs program's \(truth.wall_ns)")
            let ratio = try #require(lock["holdRatio"] as? Double)
            #expect(Self.within(ratio, truth.hold_ns_total / wall, 0.05), "ratio \(ratio)")

            // Per thread: acquisitions exact, hold and wait within 5%.
            let reportThreads = try #require(report["threads"] as? [[String: Any]])
            for t in truth.per_thread {
                let row = try #require(reportThreads.first { $0["tid"] as? Int == t.tid })
                #expect(row["acquisitions"] as? Int == iterations)
                let holding = try #require(row["holdingNanoseconds"] as? Double)
                #expect(Self.within(holding, t.hold_ns, 0.05), "tid \(t.tid) holding \(holding) vs \(t.hold_ns)")
                if threads > 1 && t.wait_ns > 1e6 {
                    let waiting = try #require(row["waitingNanoseconds"] as? Double)
                    #expect(Self.within(waiting, t.wait_ns, 0.05), "tid \(t.tid) waiting \(waiting) vs \(t.wait_ns)")
                }
            }

            // Chrome JSON: exactly one hold slice per acquisition and one wait slice per contended one, per thread.
            let chrome = "\(dir)/t.json"
            let exported = try Harness.gtrace(["report", "--chrome", chrome, trace])
            #expect(exported.status == 0, "\(exported.stderr)")
            let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: chrome))) as? [String: Any])
            let events = try #require(root["traceEvents"] as? [[String: Any]])
            let slices = events.filter { $0["ph"] as? String == "X" && (($0["args"] as? [String: Any])?["lock"] as? String) == truth.lock_address }
            let contendedPerThread = threads > 1 ? iterations : 0
            for (index, t) in truth.per_thread.enumerated() {
                let mine = slices.filter { ($0["tid"] as? Int).map { $0 & 0x3fffff } == t.tid }
                #expect(mine.filter { ($0["name"] as? String)?.hasPrefix("hold ") == true }.count == iterations)
                // The very first acquisition (thread 0, round 0) did not wait.
                let expectedWaits = index == 0 && threads > 1 ? contendedPerThread - 1 : contendedPerThread
                #expect(mine.filter { ($0["name"] as? String)?.hasPrefix("wait ") == true }.count == expectedWaits)
            }
        }
    }

    /// The same schedule on a recursive mutex locked twice per hold: each hold
    /// is one hold (its time counted once, in the lock's held time and the
    /// thread's), both lock calls are acquisitions, and the replay, which
    /// used to wait for itself at the nested lock, fits the run.
    @Test func aRecursiveMutexLockedTwicePerHoldIsOneHold() throws {
        let (threads, iterations, holdMicroseconds) = (2, 30, 2000)
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("lock_schedule", in: dir, extraFlags: ["-DRECURSIVE"])
        let trace = "\(dir)/t.data"
        try Remeasure.upTo(3, "recursive lock schedule") { timing in
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", workload, "\(threads)", "\(iterations)", "\(holdMicroseconds)"])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let truth = try JSONDecoder().decode(Truth.self, from: recorded.stdoutData)
            let n = threads * iterations
            let report = try Harness.reportJSON(trace)
            let locks = try #require(report["locks"] as? [[String: Any]])
            let lock = try #require(locks.first { $0["address"] as? String == truth.lock_address })
            #expect(lock["acquisitions"] as? Int == 2 * n)
            #expect(lock["contendedAcquisitions"] as? Int == n - 1)
            let hold = SchedulingTests.number(lock["holdTotalNanoseconds"])
            let held = SchedulingTests.number(lock["heldNanoseconds"])
            #expect(Self.within(hold, truth.hold_ns_total, 0.05), "hold \(hold) vs \(truth.hold_ns_total)")
            #expect(Self.within(held, truth.hold_ns_total, 0.05), "held \(held) vs \(truth.hold_ns_total)")
            let reportThreads = try #require(report["threads"] as? [[String: Any]])
            for t in truth.per_thread {
                let row = try #require(reportThreads.first { $0["tid"] as? Int == t.tid })
                let holding = SchedulingTests.number(row["holdingNanoseconds"])
                #expect(Self.within(holding, t.hold_ns, 0.05), "tid \(t.tid) holding \(holding) vs \(t.hold_ns)")
            }
            let fit = try #require(ParallelismTests.parallelism(report)["replayFit"] as? [String: Any])
            timing.expect(fit["fits"] as? Bool == true, "replay \(fit)")
        }
    }
}
