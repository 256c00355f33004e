import Foundation
import Testing

/// Processes that take turns under flock() on one file (`file_lock.c`). Before, the
/// waits were "off-CPU outside any recorded call", and the verdict said "Serial parts:
/// 2 workers … the critical path is 100%". Now the file's lock is a lock of the trace
/// (kind "file lock", named by its path), its holds and waits agree with the workload's
/// own clocks, released by flock(LOCK_UN) or by closing the file (and for a POSIX record
/// lock of the whole file, fcntl F_SETLKW and F_UNLCK, or C's lockf(fd, F_LOCK, 0), which
/// glibc takes through its internal fcntl; and polled, flock(LOCK_NB) and a
/// sleep between tries, waited for from the first try), the verdict names it
/// as the lock the processes share, and the replay without it agrees with the same
/// program run without the lock.
@Suite(.serialized) struct FileLockTests {
    struct Child { var hold: Double; var wait: Double }

    static func children(_ stdout: String) -> [Int32: Child] {
        var out: [Int32: Child] = [:]
        for line in stdout.split(separator: "\n") {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let pid = o["pid"] as? Int else { continue }
            out[Int32(pid)] = Child(hold: SchedulingTests.number(o["hold_ns"]), wait: SchedulingTests.number(o["wait_ns"]))
        }
        return out
    }

    static func wall(_ stdout: String) -> Double {
        for line in stdout.split(separator: "\n") {
            if let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let s = o["wall_s"] as? Double { return s * 1e9 }
        }
        return -1
    }

    @Test(arguments: ["unlock", "close", "fcntl", "lockf", "poll"])
    func fileLockHoldsAndWaitsMatchTheWorkloadsClocks(release: String) throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("file_lock", in: dir)
        let file = "\(dir)/shared.lock"
        let arguments = [file, "3", "30", "4", "2"]
        try Remeasure.upTo(3, "file lock \(release)") { timing in
            let trace = "\(dir)/t.data"
            let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", program] + arguments + [release])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let own = Self.children(recorded.stdout)
            #expect(own.count == 3, "\(recorded.stdout)")
            let report = try Harness.reportJSON(trace)
            let locks = (report["locks"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "file lock" }
            #expect(locks.count == 3, "\(locks)")
            for lock in locks {
                #expect(lock["name"] as? String == "file lock on \(file)", "\(lock["name"] ?? "")")
                let pid = Int32(lock["pid"] as? Int ?? 0)
                guard let child = own[pid] else {
                    Issue.record("no workload clock for pid \(pid): \(own.keys)")
                    continue
                }
                let hold = SchedulingTests.number(lock["holdTotalNanoseconds"]), wait = SchedulingTests.number(lock["waitTotalNanoseconds"])
                // The workload reads its clock just inside each call: 30 rounds of a few µs.
                timing.expect(abs(hold - child.hold) <= 0.05 * child.hold + 1e6, "\(release) pid \(pid): hold \(hold / 1e6) ms, its own \(child.hold / 1e6) ms")
                timing.expect(abs(wait - child.wait) <= 0.05 * child.wait + 1e6, "\(release) pid \(pid): wait \(wait / 1e6) ms, its own \(child.wait / 1e6) ms")
            }
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            #expect(verdict.contains("Lock file lock on \(file), shared by 3 processes") && verdict.contains("on the same file in each"), "\(verdict)")
            #expect(verdict.contains("they polled it") == (release == "poll"), "\(verdict)")
            // Without the lock: the same program run without it (its own wall, medians of 3).
            let p = ParallelismTests.parallelism(report)
            let cores = p["cores"] as? Int ?? 1
            let without = SchedulingTests.number((p["predictions"] as? [[String: Any]] ?? [])
                .first { ($0["scenario"] as? String ?? "").hasPrefix("without lock file lock") && $0["cores"] as? Int == cores }?["wallNanoseconds"])
            var measured: [Double] = []
            for _ in 0..<3 {
                let run = try Harness.run(program, arguments + ["none"])
                measured.append(Self.wall(run.stdout))
            }
            let median = measured.sorted()[1]
            timing.expect(without > 0 && abs(without - median) <= 0.15 * median,
                          "\(release): without the lock predicted \(without / 1e6) ms, measured \(measured.map { $0 / 1e6 }) ms")
        }
    }
}
