import Foundation
import Testing

/// Threads that hand off to each other tens of thousands of times a second pay for
/// each hand-off in CPU time, and the replay counted that time as their work. Four
/// threads logging through one `logging.FileHandler` took 1.42 s on 2 CPUs and
/// 0.62 s on one; the replay predicted 1.97 s for one core, and the report said
/// nothing of it. The verdict must now say that the fewer-core predictions are too
/// long, when they are and only then. The truth is the same program run untraced
/// on one CPU (`taskset -c 0`), whole command, median of 3.
@Suite(.serialized) struct HandOffCostTests {
    static let sentence = "Hand-offs this frequent cost CPU time of their own"

    /// The command run untraced on CPU 0, whole command, median of 3 (ns).
    static func oneCPUWall(_ command: [String]) throws -> Double {
        var walls: [Double] = []
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            let run = try Harness.run("/usr/bin/taskset", ["-c", "0"] + command)
            walls.append(Double(DispatchTime.now().uptimeNanoseconds - start))
            try #require(run.status == 0, "\(run.stderr)")
        }
        return walls.sorted()[1]
    }

    /// The command run untraced on all CPUs: its CPU time (getrusage of the reaped children),
    /// median of 3 (ns).
    static func untracedCPU(_ command: [String]) throws -> Double {
        var times: [Double] = []
        for _ in 0..<3 {
            let before = SeedTruthTests.childrenCPUNanoseconds()
            let run = try Harness.run(command[0], Array(command.dropFirst()))
            try #require(run.status == 0, "\(run.stderr)")
            times.append(SeedTruthTests.childrenCPUNanoseconds() - before)
        }
        return times.sorted()[1]
    }

    /// Records `command`; returns the verdict, the one-core "as recorded" prediction and the
    /// traced run's CPU time (getrusage, ns).
    static func record(_ command: [String], in dir: String) throws -> (verdict: String, oneCore: Double, cpu: Double) {
        let trace = "\(dir)/t.data"
        let run = try Harness.gtrace(["record", "-o", trace, "--"] + command)
        try #require(run.status == 0, "\(run.stderr)")
        let report = try Harness.reportJSON(trace)
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
        let cpu = SchedulingTests.number((report["summary"] as? [String: Any])?["cpuNanoseconds"])
        return (verdict, ParallelismTests.prediction(ParallelismTests.parallelism(report), "as recorded", cores: 1), cpu)
    }

    static func command(_ shape: String, in dir: String) throws -> [String] {
        switch shape {
        case "logging":
            return ["/usr/bin/python3.11", "\(Harness.packageRoot)/tools/workloads/py_logging_threads.py", "4", "10000", "\(dir)/log.txt"]
        case "condition variable":
            return [try Harness.buildWorkload("cond_pingpong", in: dir), "20000"]
        case "fibo threads":
            return ["/usr/bin/python3.11", "\(Harness.packageRoot)/tools/workloads/seed6_fibo.py", "threads", "--size", "27"]
        default:
            return [try Harness.buildWorkload("cpu_threads", in: dir), "4", "200"]
        }
    }

    /// Frequent hand-offs (the logging threads, `cond_pingpong`): the sentence, and a
    /// one-core prediction longer than the run on one CPU, as it says (by over 10%: 2–3×
    /// on one 2-vCPU VM, `cond_pingpong` 1.28× on another, which failed a 1.5× bound). Rare ones (a few
    /// hundred a second: seed 6's fibo threads, `cpu_threads`): no sentence, and the
    /// one-core prediction within 20% of the run, beyond what the recording itself added to
    /// the threads' CPU time.
    @Test(arguments: ["logging", "condition variable", "fibo threads", "cpu threads"])
    func theFewerCorePredictionsAreSaidTooLongWhenHandOffsAreFrequent(shape: String) throws {
        guard SchedulingTests.perfAllowed else { return }
        let frequent = shape == "logging" || shape == "condition variable"
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let command = try Self.command(shape, in: dir)
        try Remeasure.upTo(3, "hand-offs \(shape)") { timing in
            // Each side at the quietest of up to 3 tries: time the hypervisor stole stretches
            // the measured run and counts as on-CPU time in the recording (in one CI run that
            // failed, 219, 158 and 245 ms predicted against 168, 235 and 164 ms measured);
            // what was stolen in the runs kept is allowed on top of the 20%.
            let ((verdict, oneCore, tracedCPU), stolenRecording) = try Steal.quietest { try Self.record(command, in: dir) }
            let (measured, stolenRun) = try Steal.quietest { try Self.oneCPUWall(command) }
            let stolen = (stolenRecording + stolenRun) * 1e9
            // The replay gives each thread the CPU time it took in the recording, and the
            // recording's own cost is in that time (the runtime, perf, a recorder on the other
            // CPU slowing a shared core: seed 6's threads used 256–299 ms traced where one
            // core ran them in 213–233 ms, in one CI run that failed a bare 20%). So the rare
            // shapes' 20% is of the replay's own error: what the traced run used above the
            // same command untraced on all CPUs is allowed on top.
            let inflation = frequent ? 0 : max(0, tracedCPU - (try Self.untracedCPU(command)))
            let numbers = "\(shape): one core predicted \(oneCore / 1e6) ms, measured \(measured / 1e6) ms, \(stolen / 1e6) ms stolen, traced CPU \(inflation / 1e6) ms above untraced"
            print(numbers)
            #expect(oneCore > 0, "\(verdict)")
            if frequent {
                timing.expect(oneCore > 1.1 * measured, numbers)
                timing.expect(verdict.contains(Self.sentence) && verdict.contains("predictions for fewer cores are too long"), "\(verdict)")
            } else {
                timing.expect(abs(oneCore - measured) <= 0.2 * measured + stolen + inflation, numbers)
                #expect(!verdict.contains(Self.sentence), "\(verdict)")
            }
        }
    }

    /// A recording too large to replay: four Python threads running sqlite3 statements,
    /// the GIL released around every row (~3 M events, over the replay's default limit).
    /// The report said only "Serial parts", where one CPU runs the command 2-3x faster than
    /// two. The sentence must now come from the lock waits, and say gtrace predicts nothing;
    /// and one CPU must indeed be faster, untraced.
    @Test func aRecordingTooLargeToReplayStillSaysWhatHandOffsCost() throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let command = ["/usr/bin/python3.11", "\(Harness.packageRoot)/tools/workloads/py_sqlite_threads.py", "4", "20"]
        let trace = "\(dir)/t.data"
        let run = try Harness.gtrace(["record", "-o", trace, "--"] + command)
        try #require(run.status == 0, "\(run.stderr)")
        let report = try Harness.reportJSON(trace)
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
        let note = ParallelismTests.parallelism(report)["replayNote"] as? String ?? ""
        try #require(note.contains("not replayed: more than"), "the what-ifs replayed after all: \(verdict)")
        #expect(verdict.contains(Self.sentence) && verdict.contains("may run faster on one core than on 2")
                && verdict.contains("gtrace predicts nothing here"), "\(verdict)")
        let (one, all) = try Harness.oneCoreAgainstAll(command)
        #expect(one < all, "one CPU \(one) s, all CPUs \(all) s")
    }
}
