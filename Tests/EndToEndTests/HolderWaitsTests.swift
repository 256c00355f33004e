import Foundation
import Testing

/// What a lock's holders waited for while holding it (`locks[].holderWaits`):
/// tools/workloads/py_lock_across_gil.py holds a threading.Lock around CPU work while
/// other threads run Python outside it. A thread that gets the lock after waiting for
/// it (sem_wait, GIL released) must take the GIL back before it runs: that wait is
/// inside its hold. So the hold splits into the holders' CPU inside the `with` block
/// (measured by the workload with thread_time()) and their waits for the GIL.
@Suite(.serialized) struct HolderWaitsTests {
    struct Workload: Decodable {
        var held_s: Double
        var off_cpu_held_s: Double
        var lock_line: Int
    }

    @Test(arguments: PythonVersions.withRecordedPythonLockHolds)
    func aLocksHoldIsItsHoldersWorkAndTheirWaitsForTheGIL(python: PythonVersions.Interpreter) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let result = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", python.path,
                                                      "\(Harness.packageRoot)/tools/workloads/py_lock_across_gil.py", "4", "20", "4"])
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").last)
        let workload = try JSONDecoder().decode(Workload.self, from: Data(line.utf8))
        let report = try Harness.reportJSON(trace)
        let locks = try #require(report["locks"] as? [[String: Any]])
        let lock = try #require(locks.first { ($0["name"] as? String ?? "").contains("py_lock_across_gil.py:\(workload.lock_line)") },
                                "\(python): no lock named by line \(workload.lock_line)")
        let hold = Double(lock["holdTotalNanoseconds"] as? UInt64 ?? 0) / 1e9
        let waits = try #require(lock["holderWaits"] as? [String: Any], "\(python): no holderWaits")
        let gil = Double(waits["gilNanoseconds"] as? UInt64 ?? 0) / 1e9
        // Measured: 0.290 s against 0.291 (3.11), 0.315 against 0.318 (3.8), 0.308 against 0.311 (3.13).
        let expected = hold - (workload.held_s - workload.off_cpu_held_s)
        #expect(abs(gil - expected) <= 0.1 * expected + 0.01,
                "\(python): holders waited \(gil) s for the GIL; the hold \(hold) s less their CPU inside it \(workload.held_s - workload.off_cpu_held_s) s is \(expected) s")
        #expect(gil > 0.2 * hold, "\(python): the handed-over lock's new holders wait for the GIL")
    }
}
