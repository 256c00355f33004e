import Foundation
import Testing

/// A threading.Lock held across sleeps: the threads queue on it though almost
/// no CPU work runs under it. The verdict names that lock, the replay's
/// recording is explained (no waits left without a waker), and its "without
/// lock" what-if agrees with the measured run of the same sleeps without the
/// lock (py_lock_schedule.py … nolock). On a semaphore-based Python lock
/// (≤ 3.13) and on a PyMutex (3.14+).
@Suite(.serialized) struct PythonLockTruthTests {
    /// The same sleeps without the lock, untraced: the median of three wall times, and the three (ns).
    static func runWithoutTheLock(_ python: PythonVersions.Interpreter, _ arguments: [String]) throws -> (median: Double, all: [Double]) {
        var measured: [Double] = []
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            #expect(try Harness.run(python.path, arguments).status == 0)
            measured.append(Double(DispatchTime.now().uptimeNanoseconds - start))
        }
        return (measured.sorted()[1], measured)
    }

    @Test(arguments: PythonVersions.installed.filter { ["3.12", "3.14"].contains($0.version) })
    func aLockHeldAcrossSleepsIsTheVerdictAndItsWhatIfMatchesTheRunWithoutIt(python: PythonVersions.Interpreter) throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "\(Harness.packageRoot)/tools/workloads/py_lock_schedule.py"
        let arguments = [script, "3", "20", "0.005"]
        try Remeasure.upTo(3, "\(python) lock across sleeps") { timing in
            let trace = "\(dir)/t.data"
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", python.path] + arguments)
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let verdict = (report["verdict"] as? [String] ?? []).first ?? ""
            let name = PythonVersions.usesPyMutexLocks(python)
                ? "Python lock (PyMutex) waited for at py_lock_schedule.py:"
                : "Python lock created at py_lock_schedule.py:"
            #expect(verdict.hasPrefix("Lock \(name)") && verdict.contains("serialises the threads"), "\(python): \(verdict)")
            let p = ParallelismTests.parallelism(report)
            let wall = SchedulingTests.number(p["wallNanoseconds"])
            // Every lock wait ends at the release (or hand-over) that let it go.
            let unexplained = SchedulingTests.number(p["unexplainedWaitNanoseconds"])
            timing.expect(unexplained <= 0.05 * wall, "\(python): \(unexplained / 1e6) ms of waits without a waker in \(wall / 1e6) ms")
            let predictions = p["predictions"] as? [[String: Any]] ?? []
            let without = try #require(predictions.first { ($0["scenario"] as? String)?.hasPrefix("without lock \(name)") == true
                                                            && $0["cores"] as? Int == 2 }, "\(python): \(predictions.map { $0["scenario"] ?? "" })")
            let predicted = SchedulingTests.number(without["wallNanoseconds"])
            let (median, measured) = try Self.runWithoutTheLock(python, arguments + ["nolock"])
            timing.expect(abs(predicted - median) <= 0.2 * median,
                          "\(python): without the lock predicted \(predicted / 1e6) ms, measured \(measured.map { $0 / 1e6 }) ms")
        }
    }

    /// Threads that sleep outside the lock live long and wait little for it, so
    /// joining them waits longer than the lock's waiters (`_tstate_lock` up to
    /// 3.12, the thread's handle from 3.13). The "without lock" what-if must
    /// still remove the lock the threads contend for, not the join, and agree
    /// with the measured run without it. (It removed the join's lock: in a NumPy
    /// program the replay then let the main thread reach the interpreter's exit
    /// with the GIL while the workers ran, and predicted 1.9× the time.)
    @Test(arguments: PythonVersions.installed)
    func theWhatIfRemovesTheContendedLockNotAJoin(python: PythonVersions.Interpreter) throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = "\(Harness.packageRoot)/tools/workloads/py_lock_schedule.py"
        let arguments = [script, "3", "10", "0.005"]
        try Remeasure.upTo(3, "\(python) join and lock") { timing in
            let trace = "\(dir)/t.data"
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", python.path] + arguments + ["lock", "0.03"])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let locks = report["locks"] as? [[String: Any]] ?? []
            let joins = locks.filter { $0["waitsAreJoins"] as? Bool == true }
            // A lock made inside threading.py is named by the user's line that called in
            // ("py_lock_schedule.py:40 in main (via threading.py:…)"): a join's too.
            let lockWaits = locks.filter { $0["waitsAreJoins"] as? Bool != true && ($0["name"] as? String)?.contains("py_lock_schedule.py:") == true }
                .map { SchedulingTests.number($0["waitTotalNanoseconds"]) }.reduce(0, +)
            // The premise: the join waited longer than the lock's waiters.
            let joinWaits = joins.map { SchedulingTests.number($0["waitTotalNanoseconds"]) }.max() ?? 0
            #expect(joinWaits > lockWaits, "\(python): join \(joinWaits / 1e6) ms, lock \(lockWaits / 1e6) ms")
            #expect(joins.allSatisfy { ($0["name"] as? String)?.contains("threading.py:") == true }, "\(python): \(joins.map { $0["name"] ?? "" })")
            let predictions = ParallelismTests.parallelism(report)["predictions"] as? [[String: Any]] ?? []
            let without = try #require(predictions.first { ($0["scenario"] as? String)?.hasPrefix("without lock ") == true },
                                       "\(python): \(predictions.map { $0["scenario"] ?? "" })")
            let scenario = without["scenario"] as? String ?? ""
            #expect(scenario.contains("py_lock_schedule.py:") && !joins.contains { scenario == "without lock \($0["name"] as? String ?? "")" },
                    "\(python): \(scenario)")
            let predicted = SchedulingTests.number(without["wallNanoseconds"])
            let (median, measured) = try Self.runWithoutTheLock(python, arguments + ["nolock", "0.03"])
            timing.expect(abs(predicted - median) <= 0.2 * median,
                          "\(python): without the lock predicted \(predicted / 1e6) ms, measured \(measured.map { $0 / 1e6 }) ms")
        }
    }

    /// The same joins on a machine that three CPU burners keep busy: a joined
    /// thread that lets its joiner go may wait for a CPU for milliseconds before
    /// its end is recorded, and a joiner left to wait for one thread alone holds
    /// the joined thread's lock (3.13: its own parking semaphore) until it ends.
    /// The join must still be told from the lock (a CI run once marked none).
    @Test(arguments: PythonVersions.installed.filter { ["3.11", "3.13"].contains($0.version) })
    func aJoinIsToldFromTheLockOnABusyMachine(python: PythonVersions.Interpreter) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var burners: [Process] = []
        defer {
            for b in burners {
                kill(b.processIdentifier, SIGKILL)
                b.waitUntilExit()
            }
        }
        for _ in 0..<3 {
            let burner = Process()
            burner.executableURL = URL(fileURLWithPath: "/bin/sh")
            burner.arguments = ["-c", "while :; do :; done"]
            try burner.run()
            burners.append(burner)
        }
        let script = "\(Harness.packageRoot)/tools/workloads/py_lock_schedule.py"
        for attempt in 1...3 {
            let trace = "\(dir)/t\(attempt).data"
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", python.path, script, "3", "10", "0.005", "lock", "0.03"])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let locks = try Harness.reportJSON(trace)["locks"] as? [[String: Any]] ?? []
            let joins = locks.filter { $0["waitsAreJoins"] as? Bool == true }
            let name = { (lock: [String: Any]) in lock["name"] as? String ?? "" }
            // main joins its 3 threads: the joins' waits last almost the whole run.
            let joinWaits = joins.map { SchedulingTests.number($0["waitTotalNanoseconds"]) }.reduce(0, +)
            #expect(!joins.isEmpty && joins.allSatisfy { name($0).contains("threading.py:") } && joinWaits > 300e6,
                    "\(python) run \(attempt): joins \(joins.map(name)), \(joinWaits / 1e6) ms")
            // The lock the threads contend for (made at the module's top) is no join.
            #expect(!joins.contains { name($0).contains("py_lock_schedule.py:") && name($0).contains("in <module>") },
                    "\(python) run \(attempt): \(joins.map(name))")
        }
    }
}
