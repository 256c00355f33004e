import Foundation
import Testing

/// Rule 2f: a `multiprocessing.Pool(2)` fed 12 000 tiny tasks one at a time
/// (tools/workloads/py_pool_small_tasks.py; with fewer, spawned workers' start-up
/// is the larger part of the run). The parent pickles, sends and reads back every
/// task and result, its threads taking turns on its GIL, while the workers wait
/// for it; the verdict named the workers' result-queue lock instead, summed with
/// their task-queue lock ("one Python lock … held 82% of the wall time … holding
/// it for less time would let them overlap").
@Suite(.serialized) struct BusyProcessTests {
    struct Truth: Decodable {
        var wall_s: Double
        var parent_cpu_s: Double
        var workers_cpu_s: Double
    }

    static let script = "\(Harness.packageRoot)/tools/workloads/py_pool_small_tasks.py"

    @Test(arguments: ["fork", "spawn"])
    func poolWorkersThatWaitForTheirParentAreSaidToWaitForIt(context: String) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", ParallelismTests.python, Self.script, "2", "1", "12000", context])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let truth = try JSONDecoder().decode(Truth.self, from: recorded.stdoutData)
        // The premise, by the workload's own getrusage: the parent busy, its workers not.
        #expect(truth.parent_cpu_s >= 0.75 * truth.wall_s, "parent \(truth.parent_cpu_s) s of CPU in \(truth.wall_s) s")
        #expect(truth.workers_cpu_s <= 2 * 0.4 * truth.wall_s, "workers \(truth.workers_cpu_s) s of CPU in \(truth.wall_s) s")

        let report = try Harness.reportJSON(trace)
        let processes = report["processes"] as? [[String: Any]] ?? []
        let parent = processes.first { $0["parent"] == nil }.map { Int(SchedulingTests.number($0["pid"])) } ?? -1
        let limit = report["limit"] as? [String: Any] ?? [:]
        let numbers = limit["numbers"] as? [String: Any] ?? [:]
        let verdict = (report["verdict"] as? [String] ?? []).first ?? ""
        #expect(limit["kind"] as? String == "busy process" && Int(SchedulingTests.number(numbers["pid"])) == parent, "\(context): \(verdict)")
        #expect(verdict.hasPrefix("The processes waited for process \(parent):") && !verdict.contains("serialises"), "\(context): \(verdict)")

        // A lock it mentions is one object: the share it gives is that of the rows at one
        // address (forked workers map the queues' locks at the parent's), not of every
        // lock first taken at the same line.
        if context == "fork", let range = verdict.range(of: #"which they shared, was held (\d+)%"#, options: .regularExpression) {
            let said = Double(verdict[range].split(separator: " ").last?.dropLast() ?? "") ?? -1
            let wall = SchedulingTests.number((report["summary"] as? [String: Any])?["wallNanoseconds"])
            let rows = (report["locks"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "Python lock" }
            let shares = Dictionary(grouping: rows, by: { $0["address"] as? String ?? "" }).values
                .filter { group in group.contains { SchedulingTests.number($0["waitForOtherProcessesNanoseconds"]) > 0 } }
                .map { group in group.map { SchedulingTests.number($0["holdTotalNanoseconds"]) }.reduce(0, +) / wall * 100 }
            #expect(shares.contains { abs($0 - said) <= 1 }, "\(said)% said, per address \(shares): \(verdict)")
        }

        // The truth of the advice, untraced: fewer, bigger messages make the same work faster.
        try Remeasure.upTo(3, "pool of tiny tasks, chunksize 1 against 100") { timing in
            let one = try JSONDecoder().decode(Truth.self, from: try Harness.run(ParallelismTests.python, [Self.script, "2", "1", "12000", context]).stdoutData)
            let batched = try JSONDecoder().decode(Truth.self, from: try Harness.run(ParallelismTests.python, [Self.script, "2", "100", "12000", context]).stdoutData)
            timing.expect(batched.wall_s * 3 <= one.wall_s, "chunksize 1: \(one.wall_s) s, chunksize 100: \(batched.wall_s) s")
        }
    }
}
