import Foundation
import Testing

/// A pool of processes whose start method runs a new interpreter (spawn; forkserver,
/// Python 3.14's default, and the workers it forks) on small tasks: the "as threads of
/// one process" what-if keeps the processes' start-up and imports, which threads do not
/// repeat. Before, the verdict predicted threads 1.48× slower for a 3.14
/// `ProcessPoolExecutor(2)` whose threads version took 0.15 s against its 0.21 s. The
/// verdict now says so; the threads run, measured, is the independent truth that it must.
@Suite(.serialized) struct InterpreterStartTests {
    static let python = "/usr/bin/python3"
    static let script = "tools/workloads/py_pool_start.py"

    @Test(arguments: ["forkserver", "spawn", "fork"])
    func theAsThreadsPredictionSaysItKeepsNewInterpretersStartUp(method: String) throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Remeasure.upTo(3, "interpreter start \(method)") { timing in
            let trace = "\(dir)/t.data"
            let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", Self.python, "\(Harness.packageRoot)/\(Self.script)", method])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            let p = ParallelismTests.parallelism(report)
            let cores = p["cores"] as? Int ?? 1
            let asThreads = ParallelismTests.prediction(p, "with one GIL", cores: cores)
            #expect(asThreads > 0, "\(verdict)")
            guard method != "fork" else {
                // Forks of the parent start no interpreter: nothing to say.
                #expect(!verdict.contains("started anew by exec"), "\(verdict)")
                return
            }
            // The workers (and the fork server) run a new interpreter each.
            let line = verdict.split(separator: "\n").first { $0.contains("As threads of one process") } ?? ""
            #expect(line.contains("of them run interpreters started anew by exec") && line.contains("the prediction is too long by the time those took"), "\(verdict)")
            // The truth behind it: the threads version, untraced, whole command (median of 3).
            var measured: [Double] = []
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                let run = try Harness.run(Self.python, ["\(Harness.packageRoot)/\(Self.script)", "threads"])
                measured.append(Double(DispatchTime.now().uptimeNanoseconds - start))
                #expect(run.status == 0, "\(run.stderr)")
            }
            let threads = measured.sorted()[1]
            timing.expect(asThreads > 1.2 * threads, "\(method): as threads predicted \(asThreads / 1e6) ms, threads measured \(measured.map { $0 / 1e6 }) ms")
            print("\(method): as threads predicted \(asThreads / 1e6) ms, threads measured \(threads / 1e6) ms")
        }
    }
}
