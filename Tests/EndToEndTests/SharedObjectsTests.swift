import Foundation
import Testing

/// Rule 1's "as processes" prediction leaves out sending what threads share between
/// processes. tools/workloads/py_queue.py hands 100 k items from two producer threads to
/// two consumer threads through a queue.Queue; the same work as processes
/// (py_queue_processes.py, multiprocessing.Queue) is slower, not the 1.5× faster the
/// replay predicts for the threads' work alone. The report must say the threads share
/// Python objects, which the prediction leaves out, and the processes' own run,
/// untraced, must bear out that the predicted gain does not come (a queue) or is at
/// most the predicted one (a shared counter).
@Suite(.serialized) struct SharedObjectsTests {
    struct Workload: Decodable { var wall_s: Double }

    @Test(arguments: PythonVersions.withRecordedPythonLockHolds)
    func threadsHandingItemsThroughAQueueWouldBeSlowerAsProcesses(python: PythonVersions.Interpreter) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let workloads = "\(Harness.packageRoot)/tools/workloads"
        let report = try FittingRecording.report("\(python)", trace) {
            try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", python.path, "\(workloads)/py_queue.py", "2", "2", "50000"])
        }
        #expect(report.contains("But the threads share Python objects"), "\(python): \(report)")
        #expect(report.contains("Measure the process version before switching"), "\(python): \(report)")
        // The truth, untraced: the threads, then the processes.
        let threads = try Harness.run(python.path, ["\(workloads)/py_queue.py", "2", "2", "50000"])
        let processes = try Harness.run(python.path, ["\(workloads)/py_queue_processes.py", "2", "2", "50000"])
        let t = try JSONDecoder().decode(Workload.self, from: Data(try #require(threads.stdout.split(separator: "\n").last).utf8))
        let p = try JSONDecoder().decode(Workload.self, from: Data(try #require(processes.stdout.split(separator: "\n").last).utf8))
        // The replay predicted 1.5–1.8× for the work alone; what sharing costs takes it away.
        #expect(p.wall_s * 1.3 > t.wall_s, "\(python): processes \(p.wall_s) s against threads \(t.wall_s) s")
    }

    /// Four threads counting under one threading.Lock (py_shared_counter.py): from 3.10
    /// (on 3.8 and 3.9 the lock's convoy is rule 2b's, and processes are faster there:
    /// 0.26 s against 1.35 s). As processes (multiprocessing.Lock and Value) it took 0.30 s
    /// against 0.15 s (3.11), 0.38 against 0.23 (3.10), 0.20 against 0.22 once and 0.25
    /// against 0.36 once (3.10, CI /tmp/ci52): the processes' speed-up varies, but it never
    /// exceeds what the replay predicts for the work alone, which leaves sharing out. Each
    /// version runs 3 times each way, alternating; the medians are compared.
    @Test(arguments: PythonVersions.withRecordedPythonLockHolds.filter { !["3.8", "3.9"].contains($0.version) })
    func threadsCountingUnderOneLockWouldBeSlowerAsProcesses(python: PythonVersions.Interpreter) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let workload = "\(Harness.packageRoot)/tools/workloads/py_shared_counter.py"
        let report = try FittingRecording.report("\(python)", trace) {
            try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", python.path, workload, "threads"])
        }
        #expect(report.contains("But the threads share Python objects"), "\(python): \(report)")
        let predictions = (try Harness.reportJSON(trace)["parallelism"] as? [String: Any])?["predictions"] as? [[String: Any]] ?? []
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let predicted = try #require(predictions.first { ($0["scenario"] as? String)?.hasPrefix("without the GIL") == true && $0["cores"] as? Int == cores },
                                     "\(predictions)")
        let speedup = SchedulingTests.number(predicted["speedup"])
        var threadTimes: [Double] = [], processTimes: [Double] = []
        for _ in 0..<3 {
            for (mode, list) in [("threads", 0), ("processes", 1)] {
                let run = try Harness.run(python.path, [workload, mode])
                let w = try JSONDecoder().decode(Workload.self, from: Data(try #require(run.stdout.split(separator: "\n").last).utf8))
                if list == 0 { threadTimes.append(w.wall_s) } else { processTimes.append(w.wall_s) }
            }
        }
        let t = threadTimes.sorted()[1], p = processTimes.sorted()[1]
        // The prediction leaves out sharing the counter: an upper bound of what processes gain.
        #expect(t / p <= speedup * 1.15, "\(python): processes \(processTimes) s against threads \(threadTimes) s, predicted \(speedup)×")
    }
}
