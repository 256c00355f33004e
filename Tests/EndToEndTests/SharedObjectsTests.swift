import Foundation
import Testing

/// Rule 1's "as processes" prediction leaves out sending what threads share between
/// processes. tools/workloads/py_queue.py hands 100 k items from two producer threads to
/// two consumer threads through a queue.Queue; the same work as processes
/// (py_queue_processes.py, multiprocessing.Queue) is slower, not faster. The report must
/// say the threads share Python objects and that processes may well be slower, and
/// the processes' own run, untraced, must bear that out.
@Suite(.serialized) struct SharedObjectsTests {
    struct Workload: Decodable { var wall_s: Double }

    /// CPython ≤ 3.13: Python lock acquisitions are recorded (3.14's PyMutex: waits only).
    static let pythons = PythonVersions.installed.filter { !["3.14", "3.15"].contains($0.version) }

    @Test(arguments: pythons)
    func threadsHandingItemsThroughAQueueWouldBeSlowerAsProcesses(python: PythonVersions.Interpreter) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let workloads = "\(Harness.packageRoot)/tools/workloads"
        let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", python.path, "\(workloads)/py_queue.py", "2", "2", "50000"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let report = try Harness.gtrace(["report", trace])
        #expect(report.stdout.contains("But the threads share Python objects"), "\(python): \(report.stdout)")
        #expect(report.stdout.contains("as processes this program may well be slower"), "\(python): \(report.stdout)")
        // The truth, untraced: the threads, then the processes.
        let threads = try Harness.run(python.path, ["\(workloads)/py_queue.py", "2", "2", "50000"])
        let processes = try Harness.run(python.path, ["\(workloads)/py_queue_processes.py", "2", "2", "50000"])
        let t = try JSONDecoder().decode(Workload.self, from: Data(try #require(threads.stdout.split(separator: "\n").last).utf8))
        let p = try JSONDecoder().decode(Workload.self, from: Data(try #require(processes.stdout.split(separator: "\n").last).utf8))
        #expect(p.wall_s > t.wall_s, "\(python): processes \(p.wall_s) s against threads \(t.wall_s) s")
    }
}
