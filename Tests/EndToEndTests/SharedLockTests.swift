import Foundation
import Testing

/// A lock in shared memory taken by several processes (a process-shared
/// pthread mutex; a multiprocessing.Lock, a POSIX semaphore): each process
/// has its own row of it in the lock table, and its waits have no holder in
/// its own process. The verdict must name it as the lock that serialises the
/// processes, and its holds and its waits for other processes must add up to
/// what the workers measured themselves.
@Suite(.serialized) struct SharedLockTests {
    struct Truth: Decodable {
        var hold_ns: Double
        var wait_ns: Double
        var wall_ns: Double
    }

    /// The rows of the most waited-for lock whose waits were for other
    /// processes, by name (spawned processes map it at different addresses).
    static func sharedRows(_ report: [String: Any]) -> [[String: Any]] {
        let locks = report["locks"] as? [[String: Any]] ?? []
        let waited = Dictionary(grouping: locks.filter { SchedulingTests.number($0["waitForOtherProcessesNanoseconds"]) > 0 },
                                by: { $0["name"] as? String ?? "" })
        guard let name = waited.max(by: {
            $0.value.map { SchedulingTests.number($0["waitForOtherProcessesNanoseconds"]) }.reduce(0, +)
                < $1.value.map { SchedulingTests.number($0["waitForOtherProcessesNanoseconds"]) }.reduce(0, +)
        })?.key else { return [] }
        return locks.filter { $0["name"] as? String == name && $0["kind"] as? String != "GIL" }
    }

    static func check(_ report: [String: Any], _ truth: Truth, processes: Int, holdTolerance: Double, _ note: String) {
        let verdict = (report["verdict"] as? [String] ?? []).first ?? ""
        #expect(verdict.hasPrefix("Lock ") && verdict.contains("shared by \(processes) processes"), "\(note): \(verdict)")
        let rows = sharedRows(report)
        #expect(Set(rows.map { SchedulingTests.number($0["pid"]) }).count == processes, "\(note): \(rows)")
        let holds = rows.map { SchedulingTests.number($0["holdTotalNanoseconds"]) }.reduce(0, +)
        let waits = rows.map { SchedulingTests.number($0["waitForOtherProcessesNanoseconds"]) }.reduce(0, +)
        #expect(abs(holds - truth.hold_ns) <= holdTolerance * truth.hold_ns, "\(note): holds \(holds / 1e6) ms, measured \(truth.hold_ns / 1e6) ms")
        #expect(abs(waits - truth.wait_ns) <= 0.1 * truth.wait_ns + 5e6, "\(note): waits \(waits / 1e6) ms, measured \(truth.wait_ns / 1e6) ms")
    }

    @Test func aProcessSharedMutexSerialisesItsProcesses() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("pshared_lock", in: dir)
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", workload, "3", "30", "2000"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let truth = try JSONDecoder().decode(Truth.self, from: recorded.stdoutData)
        Self.check(try Harness.reportJSON(trace), truth, processes: 3, holdTolerance: 0.05, "pshared_lock")
    }

    /// A multiprocessing.Lock is a named semaphore the runtime records as a
    /// Python lock (up to 3.13 as every semaphore; from 3.14, where threading's
    /// locks are PyMutexes, as one opened by sem_open: namedsems.c). Forked
    /// workers have it at one address; spawned ones each map it at their own,
    /// and its rows are one lock by the line that first took it.
    @Test(arguments: PythonVersions.installed, ["fork", "spawn"])
    func aMultiprocessingLockSerialisesItsProcesses(python: PythonVersions.Interpreter, context: String) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        // Spawned workers start a new interpreter each: more rounds keep the lock the larger part of the run.
        let rounds = context == "fork" ? "30" : "100"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", python.path,
                                           "\(Harness.packageRoot)/tools/workloads/mp_lock.py", "3", rounds, "2", context])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let truth = try JSONDecoder().decode(Truth.self, from: recorded.stdoutData)
        let report = try Harness.reportJSON(trace)
        Self.check(report, truth, processes: 3, holdTolerance: 0.1, "\(python) \(context)")
        // Every worker's row is named by its line, also when its first acquisition
        // waited (the GIL released: no frames to read then).
        let unnamed = (report["locks"] as? [[String: Any]] ?? []).filter {
            SchedulingTests.number($0["waitForOtherProcessesNanoseconds"]) > 0 && ($0["name"] as? String ?? "").hasPrefix("Python lock 0x")
        }
        #expect(unnamed.isEmpty, "\(python) \(context): \(unnamed.map { $0["pid"] ?? "" })")
        // The holders spin: nothing they waited for while holding it is said.
        let verdict = (report["verdict"] as? [String] ?? []).first ?? ""
        #expect(!verdict.contains("blocking calls"), "\(python) \(context): \(verdict)")
    }

    /// Processes that do all their work under a multiprocessing.Value's lock, in a run
    /// whose start-up (the interpreter, the forks) is ~40% of its wall time
    /// (tools/workloads/py_mp_value_work.py). The truth: untraced, 4 processes are no
    /// faster than 1 doing the same rounds. The lock was held 64-74% of the time from
    /// its first acquisition to its last release in 7 recordings by hand, but 43% of
    /// the wall time, and the verdict was "Serial parts" with no lock named.
    @Test(arguments: PythonVersions.installed.filter { ["3.11", "3.13", "3.14"].contains($0.version) })
    func aLockThatHoldsAllTheWorkIsNamedAfterTheStartUp(python: PythonVersions.Interpreter) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "\(Harness.packageRoot)/tools/workloads/py_mp_value_work.py"
        func wall(_ processes: Int) throws -> Double {
            var walls: [Double] = []
            for _ in 0..<3 {
                let run = try Harness.run(python.path, [script, "\(processes)"])
                let truth = try #require(try JSONSerialization.jsonObject(with: run.stdoutData) as? [String: Any])
                walls.append(SchedulingTests.number(truth["wall_s"]))
            }
            return walls.sorted()[1]
        }
        let one = try wall(1), four = try wall(4)
        #expect(four >= 0.9 * one, "\(python): the premise, 4 processes no faster than 1: \(four) s against \(one) s")
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", python.path, script, "4"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let verdict = (try Harness.reportJSON(trace)["verdict"] as? [String] ?? []).first ?? ""
        #expect(verdict.hasPrefix("Lock Python lock first acquired at synchronize.py:") && verdict.contains("serialises them"),
                "\(python): \(verdict)")
    }

    /// Holders that sleep under the lock (a `multiprocessing.Pool`'s workers hold their task
    /// queue's lock while they read the next task from the parent): the verdict says their hold
    /// time went to blocking calls, as the workload's own clocks have it (all of it), and which.
    @Test func aMultiprocessingLockHeldAcrossSleepsSaysWhatItsHoldersWaitedFor() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", "/usr/bin/python3",
                                           "\(Harness.packageRoot)/tools/workloads/mp_lock.py", "3", "30", "2", "fork", "sleep"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let verdict = (try Harness.reportJSON(trace)["verdict"] as? [String] ?? []).first ?? ""
        #expect(verdict.contains("shared by 3 processes"), "\(verdict)")
        let share = verdict.range(of: #"went (\d+)% to blocking calls"#, options: .regularExpression)
            .flatMap { Int(verdict[$0].dropFirst(5).prefix { $0.isNumber }) } ?? 0
        #expect(share >= 90, "\(verdict)")
        // And names the call: time.sleep is clock_nanosleep (or select before 3.11), not waitpid or read.
        #expect(verdict.contains("to blocking calls (clock_nanosleep)") || verdict.contains("to blocking calls (select)"), "\(verdict)")
    }

    /// Two workers fed by a multiprocessing.Queue (tools/workloads/py_mp_queue_workers.py):
    /// their result queue's feeder threads queue on the queue's shared lock while its
    /// holder waits for its own GIL, but the workers' computing does not wait for it, and
    /// the two keep both cores busy. The verdict named the lock ("serialises them") in
    /// 3 of 6 runs by hand (one at parallelism 1.64 on 2 cores; the others had
    /// 1.60-1.67), so 6 runs are checked (the old verdict passes all 6 about 1 time in
    /// 20). The truth: 2 workers run faster than 1, as far as the cores allow.
    @Test func workersThatKeepTheCoresBusyAreLimitedByThem() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "\(Harness.packageRoot)/tools/workloads/py_mp_queue_workers.py"
        var busy = 0
        for run in 1...6 {
            let trace = "\(dir)/t\(run).data"
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", ParallelismTests.python, script, "400", "20000", "2"])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let verdict = (report["verdict"] as? [String] ?? []).first ?? ""
            let parallelism = SchedulingTests.number(ParallelismTests.parallelism(report)["averageParallelism"])
            let cores = SchedulingTests.number(ParallelismTests.parallelism(report)["cores"])
            if parallelism >= 0.8 * cores {
                busy += 1
                #expect(!verdict.contains("serialises them"), "run \(run), parallelism \(parallelism) on \(cores) cores: \(verdict)")
            }
        }
        // The premise: the workers kept the cores busy (1.60-1.67 on 2 cores by hand).
        #expect(busy > 0, "no run kept 80% of the cores busy")
        // The truth: the lock does not serialise the workers' computing. CPU time that other
        // programs (or the hypervisor) took during the two-worker run is time its workers
        // could not use, and is allowed on top: one CI run measured 1 worker 0.19 s and
        // 2 workers 0.17 s in all 3 attempts, where by hand they take 0.19 and 0.10–0.12 s.
        try Remeasure.upTo(3, "queue workers, 1 against 2") { timing in
            let one = try Harness.run(ParallelismTests.python, [script, "400", "20000", "1"])
            let (busy0, own0, steal0) = (SeedTruthTests.machineBusyNanoseconds(), SeedTruthTests.childrenCPUNanoseconds(), Steal.seconds())
            let two = try Harness.run(ParallelismTests.python, [script, "400", "20000", "2"])
            let others = max(0, SeedTruthTests.machineBusyNanoseconds() - busy0 - (SeedTruthTests.childrenCPUNanoseconds() - own0))
                + (Steal.seconds() - steal0) * 1e9
            timing.expect(PoolAdviceTests.wall(two.stdout) > 0 && PoolAdviceTests.wall(two.stdout) < 0.75 * PoolAdviceTests.wall(one.stdout) + others / 1e9,
                          "1 worker \(PoolAdviceTests.wall(one.stdout)) s, 2 workers \(PoolAdviceTests.wall(two.stdout)) s, other programs' and stolen CPU time meanwhile \(others / 1e9) s")
        }
    }
}
