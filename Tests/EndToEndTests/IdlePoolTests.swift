import Foundation
import Testing

/// Node's V8 platform threads wait on condition variables paired with one libuv
/// mutex for the whole run; its worker threads waited on that mutex's conditions
/// only at their start (1.4 and 2.9 ms), then ran in parallel. The verdict said
/// "Threads took turns through mutex heap 0x… first used at uv_mutex_lock+0x9:
/// 2 threads that each ran part of the work waited on condition variables paired
/// with it, 1.89 threads on average": the idle threads' waiting, put on the
/// workers. `idle_pool.c` has the same shape: a serial start, then two workers
/// that run in parallel (the premise, measured untraced: faster on two CPUs than
/// on one), beside four idle threads.
@Suite(.serialized) struct IdlePoolTests {
    static func wall(_ run: Harness.Result) -> Double {
        let o = try? JSONSerialization.jsonObject(with: run.stdoutData) as? [String: Any]
        return SchedulingTests.number(o?["wall_ns"])
    }

    @Test func idleThreadsWaitingOnAMutexsConditionsAreNotTurnsOfTheWorkers() throws {
        guard SchedulingTests.perfAllowed, ProcessInfo.processInfo.activeProcessorCount >= 2 else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("idle_pool", in: dir)
        let arguments = ["4", "2", "100", "300"]
        try Remeasure.upTo(3, "idle pool") { timing in
            let two = Self.wall(try Harness.run("/usr/bin/taskset", ["-c", "0,1", program] + arguments))
            let one = Self.wall(try Harness.run("/usr/bin/taskset", ["-c", "0", program] + arguments))
            timing.expect(two > 0 && two < 0.9 * one, "two CPUs \(two / 1e6) ms, one \(one / 1e6) ms")
            let trace = "\(dir)/t.data"
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", program] + arguments)
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            #expect(!verdict.contains("took turns"), "\(verdict)")
            // The condition queue still lists every waiter, with each one's own waiting.
            let queue = (report["conditionQueues"] as? [[String: Any]] ?? []).first
            #expect((queue?["threads"] as? [Int] ?? []).count == 6, "\(queue ?? [:])")
            #expect((queue?["threadWaitNanoseconds"] as? [Any] ?? []).count == 6, "\(queue ?? [:])")
        }
    }
}
