import Foundation
import Testing

/// A POSIX semaphore made with value 1 is a C program's lock (binarysems.c). Before, it
/// was only blocking calls and wakers: four threads doing all their work under one were
/// "Serial parts: 4 workers on 2 cores reached parallelism 1.12 … the critical path is
/// 273 ms (94% of the wall time)", no lock named. The workload (tools/workloads/sem_lock.c)
/// measures its own holds and waits; the lock table must agree with them, and the verdict
/// must name the semaphore, for threads and for processes that share one.
@Suite(.serialized) struct SemaphoreLockTests {
    @Test func threadsUnderABinarySemaphoreAreSerialisedByIt() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("sem_lock", in: dir)
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", workload, "threads", "3", "30", "2000"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let truth = try JSONDecoder().decode(SharedLockTests.Truth.self, from: recorded.stdoutData)
        let report = try Harness.reportJSON(trace)
        let verdict = (report["verdict"] as? [String] ?? []).first ?? ""
        #expect(verdict.hasPrefix("Lock threads_sem (sem_lock)") && verdict.contains("serialises"), "\(verdict)")
        let locks = (report["locks"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "semaphore" }
        #expect(locks.count == 1, "\(locks)")
        let lock = try #require(locks.first)
        #expect(lock["name"] as? String == "threads_sem (sem_lock)", "\(lock)")
        let holds = SchedulingTests.number(lock["holdTotalNanoseconds"])
        let waits = SchedulingTests.number(lock["waitTotalNanoseconds"])
        #expect(abs(holds - truth.hold_ns) <= 0.05 * truth.hold_ns, "holds \(holds / 1e6) ms, measured \(truth.hold_ns / 1e6) ms")
        #expect(abs(waits - truth.wait_ns) <= 0.1 * truth.wait_ns + 5e6, "waits \(waits / 1e6) ms, measured \(truth.wait_ns / 1e6) ms")
        #expect(SchedulingTests.number(lock["acquisitions"]) == 90, "\(lock)")
    }

    /// Forked processes sharing one, made in shared memory (`sem_init` with pshared 1) or
    /// by name (`sem_open`): the same checks as a process-shared mutex's.
    @Test(arguments: ["processes", "named"])
    func processesSharingABinarySemaphoreAreSerialisedByIt(mode: String) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("sem_lock", in: dir)
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", workload, mode, "3", "30", "2000"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let truth = try JSONDecoder().decode(SharedLockTests.Truth.self, from: recorded.stdoutData)
        let report = try Harness.reportJSON(trace)
        SharedLockTests.check(report, truth, processes: 3, holdTolerance: 0.05, "sem_lock \(mode)")
        #expect(SharedLockTests.sharedRows(report).allSatisfy { $0["kind"] as? String == "semaphore" }, "\(SharedLockTests.sharedRows(report))")
    }
}
