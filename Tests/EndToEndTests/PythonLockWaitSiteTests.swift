import Foundation
import Testing

/// A `threading.Semaphore(2)` lets 2 of 8 sleeping threads in at a time. Its
/// waits are spread over one new Condition waiter lock per wait, each row
/// named by a line of threading.py; grouped by the program's own line they
/// must name the `with sem:` line, with the waits the workload timed itself,
/// and the verdict must name that line. On every CPython (PyMutex waits from 3.14).
@Suite(.serialized) struct PythonLockWaitSiteTests {
    static let script = """
        import threading, time, sys
        sem = threading.Semaphore(2)
        ready = threading.Barrier(8)
        waited = []
        def work():
            ready.wait()
            t0 = time.perf_counter()
            with sem:
                waited.append(time.perf_counter() - t0)
                time.sleep(0.08)
        def main():
            ts = [threading.Thread(target=work) for _ in range(8)]
            for t in ts: t.start()
            for t in ts: t.join()
            long = [w for w in waited if w > 0.02]
            print("waits", len(long), "seconds", sum(waited))
        main()

        """

    @Test(arguments: PythonVersions.installed)
    func semaphoreWaitsAreNamedByTheProgramsLine(python: PythonVersions.Interpreter) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/gate.py"
        try Self.script.write(toFile: path, atomically: true, encoding: .utf8)
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", python.path, path])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        // The workload's own clock: all 8 threads reach the gate together (a Barrier: none
        // starts late and finds the permits taken), 2 pass and 6 queue; the seconds are every
        // acquisition's time, the queued ones' and the two immediate ones' few microseconds.
        let truth = recorded.stdout.split(separator: " ").map(String.init)
        let waits = truth.count >= 4 ? Int(truth[1]) ?? -1 : -1
        let seconds = truth.count >= 4 ? Double(truth[3].trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 : -1
        #expect(waits == 6, "\(recorded.stdout)")

        let report = try Harness.reportJSON(trace)
        let sites = try #require(report["pythonLockWaits"] as? [[String: Any]], "\(report.keys)")
        let gate = sites.filter { ($0["site"] as? String) == "gate.py:8 in work" }
        #expect(gate.count == 1, "\(sites)")
        if let row = gate.first {
            #expect((row["via"] as? String)?.hasSuffix("acquire") == true || (row["via"] as? String) == "__enter__", "\(row)")
            #expect(SchedulingTests.number(row["waits"]) == 6 && SchedulingTests.number(row["threads"]) == 6, "\(row)")
            let total = SchedulingTests.number(row["waitNanoseconds"]) / 1e9
            #expect(abs(total - seconds) <= 0.05 * seconds, "gtrace \(total) s, the workload's clock \(seconds) s")
        }
        #expect(sites.contains { ($0["site"] as? String)?.hasPrefix("gate.py:14 in main") == true && ($0["via"] as? String)?.hasSuffix("join") == true },
                "\(sites)")
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: " ")
        #expect(verdict.contains("most at gate.py:8 in work ("), "\(verdict)")
    }

    /// A Manager's Lock taken by 3 processes (`tools/workloads/py_manager_lock.py`): in
    /// the manager's server, its waits are at `Server.serve_client`. From 3.14 the lock
    /// is a PyMutex, whose creation and end are not seen; a Condition's waiter lock waited
    /// on and freed before it at the same address named it "first waited for at
    /// threading.py:369 in Condition.wait". A PyMutex is named by the line of its longest
    /// waits, and that line is its first call site.
    @Test(arguments: PythonVersions.installed.filter { PythonVersions.usesPyMutexLocks($0) })
    func aManagersLockIsNamedByWhereItsWaitsWere(python: PythonVersions.Interpreter) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", python.path, "\(Harness.packageRoot)/tools/workloads/py_manager_lock.py", "200"])
        try #require(recorded.status == 0, "\(recorded.stderr)")
        let report = try Harness.reportJSON(trace)
        let locks = (report["locks"] as? [[String: Any]] ?? []).filter { ($0["name"] as? String)?.hasPrefix("Python lock (PyMutex)") == true }
        for lock in locks {
            let name = lock["name"] as? String ?? ""
            let sites = (lock["callSites"] as? [[String: Any]] ?? []).filter { SchedulingTests.number($0["waits"]) > 0 }
            guard let top = sites.first?["site"] as? String else { continue }
            #expect(name.hasSuffix(" at \(top)"), "\(python): \(name), call sites \(sites.map { $0["site"] ?? "" })")
        }
        // The Manager's lock, waited for in its server, is named there.
        let served = locks.filter { lock in
            (lock["callSites"] as? [[String: Any]] ?? []).contains { ($0["site"] as? String)?.contains("in Server.serve_client") == true && SchedulingTests.number($0["waits"]) >= 100 }
        }
        #expect(served.count == 1, "\(python): \(locks.map { $0["name"] ?? "" })")
        let name = served.first?["name"] as? String ?? ""
        #expect(name.contains("managers.py") && name.contains("Server.serve_client"), "\(python): \(name)")
    }
}
