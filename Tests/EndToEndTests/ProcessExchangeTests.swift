import Foundation
import Testing

/// A `ProcessPoolExecutor(2)` whose 40 tasks each return 2 MB: multiprocessing pickles
/// every result and sends it through a pipe, which threads of one process would not.
/// The "as threads of one process" what-if keeps that work: it predicted 768 ms where
/// the threads version took ~0.55 s, and said nothing about it. The verdict now names the
/// processes' writes to pipes another of them read; the threads run, measured, is the
/// independent truth of the direction it gives.
@Suite(.serialized) struct ProcessExchangeTests {
    static let python = "/usr/bin/python3"
    static let script = "tools/workloads/py_pool_results.py"

    @Test func theAsThreadsPredictionSaysItKeepsThePickledResults() throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tasks = 40
        try Remeasure.upTo(3, "pool results") { timing in
            let trace = "\(dir)/t.data"
            let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", Self.python, "\(Harness.packageRoot)/\(Self.script)",
                                                            "processes", "\(tasks)", "2000000"])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            let p = ParallelismTests.parallelism(report)
            let asThreads = ParallelismTests.prediction(p, "with one GIL", cores: p["cores"] as? Int ?? 1)
            #expect(asThreads > 0, "\(verdict)")
            let line = verdict.split(separator: "\n").first { $0.contains("As threads of one process") }.map(String.init) ?? ""
            // At least a write per task went through a pipe (tasks and results: 78–79 here).
            let writes = line.components(separatedBy: "pass each other their work: at least ").dropFirst().first
                .flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
            #expect(writes >= tasks && line.contains("threads of one process would pass them by reference"), "\(verdict)")
            // The processes' JSON says who wrote them: the parent sends tasks, the workers results.
            let processes = report["processes"] as? [[String: Any]] ?? []
            let writers = processes.filter { ($0["writesReadByOtherProcesses"] as? Int ?? 0) > 0 }
            #expect(writers.count == 3, "\(processes.map { $0["writesReadByOtherProcesses"] ?? "-" })")
            // The truth behind it: the threads version, untraced, whole command (median of 3).
            var measured: [Double] = []
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                let run = try Harness.run(Self.python, ["\(Harness.packageRoot)/\(Self.script)", "threads", "\(tasks)", "2000000"])
                measured.append(Double(DispatchTime.now().uptimeNanoseconds - start))
                #expect(run.status == 0, "\(run.stderr)")
            }
            let threads = measured.sorted()[1]
            timing.expect(asThreads > 1.15 * threads, "as threads predicted \(asThreads / 1e6) ms, threads measured \(measured.map { $0 / 1e6 }) ms")
            print("pool results: as threads predicted \(asThreads / 1e6) ms, threads measured \(threads / 1e6) ms, \(writes) writes")
        }
    }

    /// A `ProcessPoolExecutor(2)` mapping a function over 8 lists of 500 000 ints (19 MB
    /// pickled) does nothing but pass them: the as-threads what-if predicted 1.34× slower,
    /// and threads took a few percent of its time. The sentence now gives the bytes passed,
    /// which the workload's own pickler bounds, and what the passing must have cost for
    /// threads to be faster. The same pool over `fib(25)` passes 14 kB, and its threads
    /// version is slower: the break-even per byte is then far above any pickling. On 3.14
    /// the workers are forkserver's, new interpreters whose start-up the replay keeps too:
    /// the break-even is then for the passing and the start-ups together.
    @Test(arguments: [(python: "3.11", tasks: 8, items: 500_000, work: 0), (python: "3.11", tasks: 40, items: 10, work: 25),
                      (python: "3.14", tasks: 8, items: 500_000, work: 0)])
    func theAsThreadsPredictionGivesTheBytesPassedAndWhatTheyMustHaveCost(shape: (python: String, tasks: Int, items: Int, work: Int)) throws {
        guard SchedulingTests.perfAllowed else { return }
        guard let python = shape.python == "3.11" ? Self.python : PythonVersions.installed.first(where: { $0.version == shape.python })?.path else {
            #expect(!PythonVersions.missingRequired.contains(shape.python), "CPython \(shape.python) is required here")
            return
        }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "\(Harness.packageRoot)/tools/workloads/py_pool_tasks.py"
        let arguments = ["\(shape.tasks)", "\(shape.items)", "\(shape.work)"]
        try Remeasure.upTo(3, "pool tasks \(shape)") { timing in
            let trace = "\(dir)/t.data"
            let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", python, script, "processes"] + arguments)
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let own = Harness.lastJSONLine(recorded.stdout)
            let taskBytes = own["task_bytes"] as? Int ?? 0
            let report = try Harness.reportJSON(trace)
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            // The bytes: at least the tasks' pickles (the parent's writes), at most those and
            // each message's call item, header and result (a few hundred bytes each).
            let processes = report["processes"] as? [[String: Any]] ?? []
            let bytes = processes.map { $0["bytesWrittenReadByOtherProcesses"] as? Int ?? 0 }.reduce(0, +)
            #expect(bytes >= taskBytes && bytes <= taskBytes + 1_000 * shape.tasks, "\(bytes) bytes counted, \(taskBytes) pickled: \(processes.map { $0["bytesWrittenReadByOtherProcesses"] ?? "-" })")
            let line = verdict.split(separator: "\n").first { $0.contains("As threads of one process") }.map(String.init) ?? ""
            #expect(line.contains("carrying "), "\(verdict)")
            let p = ParallelismTests.parallelism(report)
            let asThreads = ParallelismTests.prediction(p, "with one GIL", cores: p["cores"] as? Int ?? 1)
            // The independent truth of the direction: both versions untraced, interleaved (median of 3).
            var threads: [Double] = [], processesRun: [Double] = []
            for _ in 0..<3 {
                for (mode, into) in [("threads", 0), ("processes", 1)] {
                    let run = try Harness.run(python, [script, mode] + arguments)
                    #expect(run.status == 0, "\(run.stderr)")
                    let wall = Harness.lastJSONLine(run.stdout)["wall_s"] as? Double ?? 0
                    if into == 0 { threads.append(wall) } else { processesRun.append(wall) }
                }
            }
            let (t, pr) = (threads.sorted()[1], processesRun.sorted()[1])
            print("pool tasks \(shape): as threads predicted \(asThreads / 1e6) ms; threads \(t) s, processes \(pr) s untraced; \(bytes) bytes counted, \(taskBytes) pickled")
            // Both shapes are predicted slower as threads (1.3× and 1.8× here): the break-even is due.
            if shape.python == "3.14" {
                #expect(line.contains("So threads can be faster only if that passing of ") && line.contains("and those interpreters' start-ups together took more than"), "\(verdict)")
                timing.expect(t < 0.5 * pr, "threads \(threads) s, processes \(processesRun) s")
                return
            }
            #expect(line.contains("So threads can be faster only if passing those"), "\(verdict)")
            let perByte = line.components(separatedBy: " a byte, where ").first?.components(separatedBy: ": ").last ?? ""
            if shape.work == 0 {
                // Passing is all these processes do: threads are much faster.
                timing.expect(t < 0.5 * pr, "threads \(threads) s, processes \(processesRun) s")
                #expect(perByte.hasSuffix(" ns"), "\(line)")
            } else {
                // Passing is next to nothing: the threads version is slower, as predicted, and
                // the passing would have had to cost microseconds a byte.
                timing.expect(t > 1.2 * pr, "threads \(threads) s, processes \(processesRun) s")
                #expect(perByte.hasSuffix(" µs") || perByte.hasSuffix(" ms"), "\(line)")
            }
        }
    }
}
