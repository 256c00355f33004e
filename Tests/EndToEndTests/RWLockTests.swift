import Foundation
import Testing

/// Readers of a pthread rwlock hold it together. gtrace treated every hold as
/// a mutex's: readers working in parallel beside a starved writer were "Lock m
/// serialises the work" at parallelism 1.95 on 2 cores, and the replay took
/// the readers in turns (773 ms against 394 ms measured). Read holds are now
/// shared in the serialised work and in the replay; the writer's wait gets a
/// sentence of its own. A lock taken only for writing still serialises.
@Suite struct RWLockTests {
    static func record(_ mode: String, in dir: String) throws -> (own: [String: Any], report: [String: Any]) {
        let program = try Harness.buildWorkload("rw_lock", in: dir)
        let trace = "\(dir)/\(mode).data"
        let run = try Harness.gtrace(["record", "-o", trace, "--", program, mode, "3", "100", "1000"])
        try #require(run.status == 0, "\(run.stderr)")
        let own = try #require(try JSONSerialization.jsonObject(with: run.stdoutData) as? [String: Any], "\(run.stdout)")
        return (own, try Harness.reportJSON(trace))
    }

    static func rwlock(_ report: [String: Any]) throws -> [String: Any] {
        let locks = (report["locks"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "rwlock" }
        try #require(locks.count == 1, "\(report["locks"] ?? "")")
        return locks[0]
    }

    @Test func readersBesideAWaitingWriterAreNotSerialisedWork() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (own, report) = try Self.record("readers", in: dir)
        let lock = try Self.rwlock(report)
        let rw = try #require(lock["rwlock"] as? [String: Any], "\(lock)")
        // The workload's own clocks: its readers' holds and its writer's waits.
        let readHeld = SchedulingTests.number(own["read_hold_ns"]), writeWaited = SchedulingTests.number(own["write_wait_ns"])
        let recordedRead = SchedulingTests.number(rw["readHoldNanoseconds"]), recordedWait = SchedulingTests.number(rw["writeWaitNanoseconds"])
        #expect(abs(recordedRead - readHeld) <= 0.05 * readHeld + 1e6, "read holds \(recordedRead / 1e6) ms, the readers' own \(readHeld / 1e6) ms")
        #expect(abs(recordedWait - writeWaited) <= 0.05 * writeWaited + 1e6, "write waits \(recordedWait / 1e6) ms, the writer's own \(writeWaited / 1e6) ms")
        #expect(rw["readAcquisitions"] as? Int == 300 && rw["writeAcquisitions"] as? Int == 20, "\(rw)")
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: " ")
        #expect(!verdict.contains("serialises"), "\(verdict)")
        #expect(verdict.contains("Writers of rwlock rw_lock_shared"), "\(verdict)")
        // The replay lets the readers overlap: it reproduces the run.
        let fit = ParallelismTests.parallelism(report)["replayFit"] as? [String: Any] ?? [:]
        #expect(fit["fits"] as? Bool == true, "\(fit)")
    }

    @Test func aRWLockTakenOnlyForWritingSerialisesTheWork() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (own, report) = try Self.record("writers", in: dir)
        let lock = try Self.rwlock(report)
        let held = SchedulingTests.number(own["write_hold_ns"])
        let recorded = SchedulingTests.number(lock["holdTotalNanoseconds"])
        #expect(abs(recorded - held) <= 0.05 * held + 1e6, "holds \(recorded / 1e6) ms, the threads' own \(held / 1e6) ms")
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: " ")
        #expect(verdict.contains("Lock rw_lock_shared") && verdict.contains("serialises the work"), "\(verdict)")
        #expect(!verdict.contains("Writers of rwlock"), "\(verdict)")
    }
}
