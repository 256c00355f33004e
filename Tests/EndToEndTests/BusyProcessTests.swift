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
        var workers_startup_cpu_s: Double
        var tasks_wall_s: Double
        var parent_tasks_cpu_s: Double
        var pool_wall_s: Double
        var parent_pool_cpu_s: Double
    }

    static let script = "\(Harness.packageRoot)/tools/workloads/py_pool_small_tasks.py"

    @Test(arguments: ["fork", "spawn"])
    func poolWorkersThatWaitForTheirParentAreSaidToWaitForIt(context: String) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        // The premise, by the workload's own clocks over its tasks (from when every worker was
        // ready, so a spawned worker's imports, ~60 ms of CPU each, are not counted): the
        // parent on a CPU most of the time, each of its 2 workers at most 0.4 times as much
        // (the rule asks ≥ 0.6 and at most half as much, each over its own first to last
        // message). On 2 cores beside the recorder the program does not always run so: in a
        // run by hand its workers were on a CPU 0.40–0.44 of their span against the parent's
        // 0.67, and waited for a CPU much of the rest (the verdict was then rightly not this
        // rule's: "Serial parts"), and a CI run got "Serial parts" under the earlier premise
        // (getrusage over the whole run). The premise is the program's, so it is recorded
        // again, up to 5 times, and the checks below are of the first recording that has it.
        // The parent's share is also taken from the pool's creation: the rule's span for it
        // begins with its first message (a spawned worker's preparation data), and a
        // worker's start-up from a cold page cache left it waiting there: after
        // `drop_caches`, 0.69 CPUs from the pool's creation and "Serial parts" in 1 of 2
        // recordings (this test ran right after the build in the two CI runs that failed it).
        func premise(_ truth: Truth) -> (parent: Bool, workers: Bool) {
            let parent = min(truth.parent_tasks_cpu_s / max(truth.tasks_wall_s, 1e-9), truth.parent_pool_cpu_s / max(truth.pool_wall_s, 1e-9))
            let worker = (truth.workers_cpu_s - truth.workers_startup_cpu_s) / 2 / max(truth.tasks_wall_s, 1e-9)
            return (parent >= 0.7, worker <= 0.4 * parent)
        }
        var truth = Truth(wall_s: 0, parent_cpu_s: 0, workers_cpu_s: 0, workers_startup_cpu_s: 0, tasks_wall_s: 0, parent_tasks_cpu_s: 0,
                          pool_wall_s: 0, parent_pool_cpu_s: 0)
        for _ in 1...5 {
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", ParallelismTests.python, Self.script, "2", "1", "12000", context])
            try #require(recorded.status == 0, "\(recorded.stderr)")
            truth = try JSONDecoder().decode(Truth.self, from: recorded.stdoutData)
            if premise(truth) == (true, true) { break }
        }
        #expect(premise(truth).parent, "parent \(truth.parent_tasks_cpu_s) s of CPU in \(truth.tasks_wall_s) s of tasks, \(truth.parent_pool_cpu_s) s in \(truth.pool_wall_s) s from the pool's creation")
        #expect(premise(truth).workers, "workers \(truth.workers_cpu_s - truth.workers_startup_cpu_s) s of CPU in \(truth.tasks_wall_s) s of tasks, parent \(truth.parent_tasks_cpu_s) s")

        let report = try Harness.reportJSON(trace)
        let processes = report["processes"] as? [[String: Any]] ?? []
        let parent = processes.first { $0["parent"] == nil }.map { Int(SchedulingTests.number($0["pid"])) } ?? -1
        let limit = report["limit"] as? [String: Any] ?? [:]
        let numbers = limit["numbers"] as? [String: Any] ?? [:]
        let verdict = (report["verdict"] as? [String] ?? []).first ?? ""
        // What rule 2f saw of each process, so that a failure says which of its conditions failed.
        let seen = processes.map { p in
            String(format: "pid %d: exchange %@ over %@ ns (%@ while the others exchanged), lifetime %.0f ns, onCPU %.0f ns, messages %d",
                   Int(SchedulingTests.number(p["pid"])), "\(p["exchangeParallelism"] ?? "-")", "\(p["exchangeNanoseconds"] ?? "-")",
                   "\(p["othersExchangeParallelism"] ?? "-")",
                   SchedulingTests.number(p["lifetimeNanoseconds"]), SchedulingTests.number(p["onCPUNanoseconds"]),
                   Int(SchedulingTests.number(p["writesReadByOtherProcesses"])))
        }.joined(separator: "; ")
        #expect(limit["kind"] as? String == "busy process" && Int(SchedulingTests.number(numbers["pid"])) == parent,
                "\(context): \(verdict) [\(seen); truth \(truth)]")
        #expect(verdict.hasPrefix("The processes waited for process \(parent) (python") && !verdict.contains("serialises"), "\(context): \(verdict)")
        #expect(!verdict.contains("data went one way"), "\(context): tasks and results go both ways: \(verdict)")

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
            // The tasks' wall time: the workers' start-up before them is the same for both.
            timing.expect(batched.tasks_wall_s * 3 <= one.tasks_wall_s, "tasks with chunksize 1: \(one.tasks_wall_s) s, chunksize 100: \(batched.tasks_wall_s) s")
        }
    }

    /// `cat FILE | gzip -6 | wc -c`, and `gzip -6 < FILE | gzip -dc | wc -c` (gzip at the
    /// head): gzip is on a CPU all the time, the others nearly never. The pool's advice
    /// ("fewer, bigger messages") was said of both; data goes one way through gzip, and a
    /// pipeline runs at the pace of its slowest stage. The truth, untraced: gzip alone on
    /// the file takes about as long as either pipeline, and the file's two halves
    /// compressed by two gzips side by side take much less.
    @Test func aPipelinesBusyStageIsNamedAsTheStageTheOthersWaitFor() throws {
        #expect(ProcessInfo.processInfo.activeProcessorCount >= 2, "two gzips side by side need 2 cores")
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 50 MB of base64 text of random bytes: gzip works ~2 s on it. (On 16 MB, 0.7 s,
        // the runtime noted 47 of gzip's writes, under rule 2f's 100, and the verdict was
        // "One busy thread, in process … (gzip -6), did the work: it is not split".)
        let file = "\(dir)/input.txt"
        let made = try Harness.run("/bin/sh", ["-c", "head -c 37000000 /dev/urandom | base64 > \(file) && split -n 2 \(file) \(dir)/half."])
        #expect(made.status == 0, "\(made.stderr)")

        // The verdict's first sentence, the limit's kind, and a pid by its command's start.
        func recorded(_ command: String, _ trace: String) throws -> (verdict: String, kind: String?, pid: (String) -> Int) {
            let run = try Harness.gtrace(["record", "-o", trace, "--", "/bin/sh", "-c", command])
            #expect(run.status == 0, "\(run.stderr)")
            let report = try Harness.reportJSON(trace)
            let processes = report["processes"] as? [[String: Any]] ?? []
            return ((report["verdict"] as? [String] ?? []).first ?? "", (report["limit"] as? [String: Any])?["kind"] as? String, { command in
                processes.first { ($0["command"] as? String)?.hasPrefix(command) == true }.map { Int(SchedulingTests.number($0["pid"])) } ?? -1
            })
        }

        let pipeline = "cat \(file) | gzip -6 | wc -c"
        let (verdict, kind, pid) = try recorded(pipeline, "\(dir)/t.data")
        #expect(kind == "busy process", "\(verdict)")
        #expect(verdict.hasPrefix("The processes waited for process \(pid("gzip")) (gzip -6): data went one way through it, from process \(pid("cat")) (cat input.txt) to process \(pid("wc")) (wc -c)"),
                "\(verdict)")
        #expect(verdict.contains("A pipeline runs at the pace of its slowest stage") && !verdict.contains("chunksize"), "\(verdict)")

        // The head of a pipeline: gzip reads the file itself and feeds `gzip -dc`, which
        // feeds wc. It got the pool's advice ("fewer, bigger messages … chunksize") before.
        let headed = "gzip -6 < \(file) | gzip -dc | wc -c"
        let head = try recorded(headed, "\(dir)/h.data")
        #expect(head.kind == "busy process", "\(head.verdict)")
        #expect(head.verdict.hasPrefix("The processes waited for process \(head.pid("gzip -6")) (gzip -6): data went one way from it, to process \(head.pid("gzip -dc")) (gzip -dc)"),
                "\(head.verdict)")
        #expect(head.verdict.contains("A pipeline runs at the pace of its slowest stage") && !head.verdict.contains("chunksize"), "\(head.verdict)")

        // The truth, untraced (medians of 3, alternating).
        func seconds(_ script: String) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            #expect(try Harness.run("/bin/sh", ["-c", script]).status == 0)
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        var whole: [Double] = [], headedRuns: [Double] = [], alone: [Double] = [], split: [Double] = []
        for _ in 0..<3 {
            whole.append(try seconds(pipeline + " > /dev/null"))
            headedRuns.append(try seconds(headed + " > /dev/null"))
            alone.append(try seconds("gzip -6 < \(file) > /dev/null"))
            split.append(try seconds("gzip -6 < \(dir)/half.aa > /dev/null & gzip -6 < \(dir)/half.ab > /dev/null; wait"))
        }
        let (w, h, g, s) = (whole.sorted()[1], headedRuns.sorted()[1], alone.sorted()[1], split.sorted()[1])
        #expect(g >= 0.8 * w, "gzip alone \(g) s, the pipeline \(w) s: gzip is the pipeline's pace")
        #expect(g >= 0.8 * h, "gzip alone \(g) s, the pipeline it heads \(h) s: gzip is its pace")
        #expect(s <= 0.75 * g, "two halves side by side \(s) s, gzip alone \(g) s: splitting the stage's work shortens it")
    }
}
