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
    /// on 2 cores" is measured by the same program with its workers in processes, untraced:
    /// 335 ms was predicted on 3.11 (the heartbeat's 20 ms timeouts one after another)
    /// against 188 ms. The replay gives each worker the CPU time it took in the recording;
    /// as processes on this VM's two vCPUs they took up to 1.9× that within the hour, and
    /// traced ~15% more: half the difference of the workers' own CPU clocks (the threads'
    /// in the recording, the children's rusage in the processes run) is allowed on top,
    /// as in `SeedTruthTests`. Semaphores on Debian's 3.11 and pyenv's 3.13, PyMutexes on 3.14, 3.15.
    @Test(arguments: PythonVersions.installed.filter { $0.path == "/usr/bin/python3.11" || ["3.13", "3.14", "3.15"].contains($0.version) })
    func aPythonHeartbeatDoesNotHoldTheProcessesPrediction(_ python: PythonVersions.Interpreter) throws {
        try Self.checkHeartbeat(python, stop: "signalled", recordedOn: ["/usr/bin/taskset", "-c", "0"])
    }

    /// The heartbeat finds the stop flag already set: main sets it while the heartbeat is
    /// between two waits (computing its beat), so no wait of the heartbeat is signalled;
    /// it takes the Event's lock, last let go by main, and ends. Recorded on both cores,
    /// the threads taking turns on the GIL: "without the GIL on 2 cores" against the
    /// processes run, untraced. The heartbeat's timeouts, kept as delays, held the
    /// prediction to the recorded end. Up to 3.13 only: from 3.14 the Event's lock is a
    /// PyMutex, whose uncontended takes the runtime does not see. Main spins until the
    /// next beat (up to 60 ms, a different share in each run): the difference of the two
    /// runs' spins is allowed on top.
    @Test(arguments: PythonVersions.installed.filter { $0.path == "/usr/bin/python3.11" || $0.version == "3.13" })
    func aHeartbeatThatFindsItsStopSetDoesNotHoldThePrediction(_ python: PythonVersions.Interpreter) throws {
        try Self.checkHeartbeat(python, stop: "found", recordedOn: [])
    }

    /// Records `py_heartbeat.py threads 2 31 STOP` (behind `recordedOn`, e.g. taskset) and
    /// compares its "without the GIL, 2 cores" prediction with the processes run, untraced,
    /// within 15% + half the workers' CPU difference + the two runs' spin difference (0
    /// when signalled) + stolen + 10 ms (forking the two workers, in the processes run only).
    static func checkHeartbeat(_ python: PythonVersions.Interpreter, stop: String, recordedOn prefix: [String]) throws {
        guard S.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "\(Harness.packageRoot)/tools/workloads/py_heartbeat.py"
        try Remeasure.upTo(3, "Python heartbeat, stop \(stop) (\(python.version))") { timing in
            let processes = try Harness.run(python.path, [script, "processes", "2", "31", stop])
            let trace = "\(dir)/t.data"
            let (threads, stolenSeconds) = try Steal.quietest {
                try Harness.gtrace(["record", "-o", trace, "--"] + prefix + [python.path, script, "threads", "2", "31", stop])
            }
            #expect(threads.status == 0, "\(threads.stderr)")
            let stolen = stolenSeconds * 1e9
            let p = ParallelismTests.parallelism(try Harness.reportJSON(trace))
            let measured = ParallelismTests.wallNanoseconds(processes.stdout)
            let predicted = ParallelismTests.prediction(p, "without the GIL", cores: 2)
            let cpuDifference = abs(value("worker_cpu_ns", processes.stdout) - value("worker_cpu_ns", threads.stdout))
            let spinDifference = abs(value("spin_ns", processes.stdout) - value("spin_ns", threads.stdout))
            #expect(measured > 0 && predicted > 0, "measured \(measured), predicted \(predicted)")
            timing.expect(abs(predicted - measured) <= 0.15 * measured + cpuDifference / 2 + spinDifference + stolen + 10e6,
                          "\(python.version) as processes on 2 cores: predicted \(predicted / 1e6) ms, measured \(measured / 1e6) ms, workers' CPU difference ÷ 2 \(cpuDifference / 2e6) ms, spins' difference \(spinDifference / 1e6) ms, stolen \(stolen / 1e6) ms")
        }
    }

    /// The number after `name` in py_heartbeat.py's line.
    static func value(_ name: String, _ stdout: String) -> Double {
        let words = stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let i = words.firstIndex(where: { $0 == name }), i + 1 < words.count else { return -1 }
        return Double(words[i + 1]) ?? -1
    }
}
