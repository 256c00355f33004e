import Foundation
import Testing

/// Python locks (POSIX semaphores up to 3.13) have no owner and their
/// addresses are reused: a Condition's waiter lock is released by the
/// notifying thread, and a lock created in a function seen for the first time
/// is defined in the trace between its creation and its frames. The lock
/// table must end the waiter's hold at the notify, and name the lock by the
/// line that created it.
@Suite(.serialized) struct PythonLockIdentityTests {
    static let script = """
        import threading, time
        def make():
            return threading.Lock()
        def main():
            lock = make()
            cond = threading.Condition()
            ready = []
            def waiter():
                with cond:
                    while not ready:
                        cond.wait()
                time.sleep(0.3)
            t = threading.Thread(target=waiter)
            t.start()
            time.sleep(0.05)
            with cond:
                ready.append(1)
                cond.notify()
            with lock:
                time.sleep(0.1)
            t.join()
        main()

        """

    @Test(arguments: PythonVersions.installed.filter { !PythonVersions.usesPyMutexLocks($0) })
    func aWaiterLockHandedOverEndsItsHoldAndANewFunctionsLockIsNamed(python: PythonVersions.Interpreter) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/identity.py"
        try Self.script.write(toFile: path, atomically: true, encoding: .utf8)
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", python.path, path])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let report = try Harness.reportJSON(trace)
        let locks = try #require(report["locks"] as? [[String: Any]])
        let python = locks.filter { $0["kind"] as? String == "Python lock" }
        func number(_ row: [String: Any], _ key: String) -> Double { SchedulingTests.number(row[key]) }

        // The lock created in make(), held 100 ms under `with lock:`.
        let made = python.filter { ($0["name"] as? String)?.hasPrefix("Python lock created at identity.py:3 in make") == true }
        #expect(made.count == 1, "\(python.map { $0["name"] ?? "" })")
        if let row = made.first {
            #expect(number(row, "holdMaxNanoseconds") >= 95e6 && number(row, "holdMaxNanoseconds") < 250e6, "\(row)")
        }
        // The Condition's waiter lock: held by the waiter from its first
        // acquire until the notify (~50 ms), then again from its wake until the
        // lock is freed; never until the waiter thread ends 300 ms later.
        // Made inside threading.py, it is named by the line that called in: the
        // waiter's `cond.wait()` (qualified names from 3.11; "in wait" before).
        let waiterRows = python.filter {
            let name = $0["name"] as? String ?? ""
            return name.hasPrefix("Python lock created at identity.py:11 in ") && name.contains("(via threading.py:")
                && (name.contains(" in Condition.wait)") || name.contains(" in wait)"))
        }
        #expect(!waiterRows.isEmpty, "\(python.map { $0["name"] ?? "" })")
        for row in waiterRows {
            #expect(number(row, "holdMaxNanoseconds") < 200e6, "\(python): \(row)")
        }
    }
}
