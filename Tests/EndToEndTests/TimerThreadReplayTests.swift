import Foundation
import Testing

/// A timer thread (a condition wait with a timeout, again and again, as HotSpot's
/// WatcherThread) beside two computing workers, recorded on one core: the replay's
/// prediction for two cores must match the same program run untraced on two. Each
/// timeout was a fixed delay, so the chain of them held every what-if to the recorded
/// wall time (281 ms predicted on 2 cores, 157 ms measured) until the timer ended at
/// its stop signal (`join`) or at the process's exit (`exit`) in the replay too.
@Suite(.serialized) struct TimerThreadReplayTests {
    typealias S = SchedulingTests

    @Test(arguments: ["join", "exit"])
    func aTimerThreadDoesNotHoldTheRunToItsRecordedLength(_ mode: String) throws {
        guard S.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("timer_thread", in: dir)
        let arguments = [mode, "150000000"]  // two workers of ~70 ms each, 20 ms ticks
        try Remeasure.upTo(3, "timer thread (\(mode))") { timing in
            let twoCores = try Harness.run(workload, arguments)
            let trace = "\(dir)/t.data"
            let (recorded, stolenSeconds) = try Steal.quietest {
                try Harness.gtrace(["record", "-o", trace, "--", "/usr/bin/taskset", "-c", "0", workload] + arguments)
            }
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let stolen = stolenSeconds * 1e9
            let p = ParallelismTests.parallelism(try Harness.reportJSON(trace))
            let fit = p["replayFit"] as? [String: Any] ?? [:]
            timing.expect(fit["fits"] as? Bool == true, "the self-replay does not fit: \(fit)")
            let measured = ParallelismTests.wallNanoseconds(twoCores.stdout)
            let predicted = ParallelismTests.prediction(p, "as recorded", cores: 2)
            #expect(measured > 0 && predicted > 0, "measured \(measured), predicted \(predicted)")
            // The workers' CPU time grows a little when they share the machine (up to
            // 12% here); the process's start and exit are outside the program's clock.
            timing.expect(abs(predicted - measured) <= 0.2 * measured + stolen + 5e6,
                          "2 cores: predicted \(predicted / 1e6) ms, measured \(measured / 1e6) ms, stolen \(stolen / 1e6) ms")
        }
    }

    /// The same in Python: a heartbeat thread (`while not stop.wait(0.02)`, a Python lock's
    /// timed waits) beside two CPU-bound worker threads, recorded on one core. "As processes
    /// on 2 cores" is measured by the same program with its workers in processes: 183 ms
    /// was predicted (the heartbeat's 20 ms timeouts one after another) against 105–125 ms.
    @Test func aPythonHeartbeatDoesNotHoldTheProcessesPrediction() throws {
        guard S.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "\(Harness.packageRoot)/tools/workloads/py_heartbeat.py"
        try Remeasure.upTo(3, "Python heartbeat") { timing in
            let processes = try Harness.run(ParallelismTests.python, [script, "processes", "2", "30"])
            let trace = "\(dir)/t.data"
            let (recorded, stolenSeconds) = try Steal.quietest {
                try Harness.gtrace(["record", "-o", trace, "--", "/usr/bin/taskset", "-c", "0", ParallelismTests.python, script, "threads", "2", "30"])
            }
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let stolen = stolenSeconds * 1e9
            let p = ParallelismTests.parallelism(try Harness.reportJSON(trace))
            let measured = ParallelismTests.wallNanoseconds(processes.stdout)
            let predicted = ParallelismTests.prediction(p, "without the GIL", cores: 2)
            #expect(measured > 0 && predicted > 0, "measured \(measured), predicted \(predicted)")
            // Forking the two workers is in the measured run only.
            timing.expect(abs(predicted - measured) <= 0.25 * measured + stolen + 10e6,
                          "as processes on 2 cores: predicted \(predicted / 1e6) ms, measured \(measured / 1e6) ms, stolen \(stolen / 1e6) ms")
        }
    }
}
