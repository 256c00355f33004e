import Foundation
import Testing

/// While the command runs, the recorder scans the chunks its threads have
/// completed (LiveScan), and the merge continues those scans. With
/// GTRACE_CHECK_LIVE_SCAN=1 the recorder also scans the whole session at the
/// end and warns when the two differ; each command ends with `sleep 1`, so
/// that the idle-priority scanner certainly has a free core for the chunks
/// the workload completed.
@Suite(.serialized) struct LiveScanTests {
    /// Records `script` (run by sh with `$1` = the lock_pairs workload) with the check on.
    static func record(_ script: String) throws -> (trace: String, stderr: String, liveChunks: Int, dir: String) {
        let dir = try Harness.temporaryDirectory()
        let pairs = try Harness.buildWorkload("lock_pairs", in: dir)
        let trace = "\(dir)/t.data"
        var environment = Foundation.ProcessInfo.processInfo.environment
        environment["GTRACE_CHECK_LIVE_SCAN"] = "1"
        let result = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", "/bin/sh", "-c", script, "sh", pairs],
                                     environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let info = try Harness.dump(trace).first { $0.hasPrefix("info live_scanned_chunks=") } ?? ""
        let chunks = Int(info.split(separator: "\"").dropFirst().first ?? "") ?? -1
        return (trace, result.stderr, chunks, dir)
    }

    /// Two threads of lock pairs: the live scan took their completed chunks,
    /// the continued scan is the full one, and the counts are the workload's.
    @Test func threadsScannedLiveMergeAsAFullScan() throws {
        let pairs = 300_000
        let run = try Self.record("\"$1\" 2 \(pairs); sleep 1")
        defer { try? FileManager.default.removeItem(atPath: run.dir) }
        #expect(run.liveChunks > 0, "live_scanned_chunks \(run.liveChunks)")
        #expect(!run.stderr.contains("live scan differs"), "\(run.stderr)")
        let report = try Harness.reportJSON(run.trace, replay: false)
        let threads = try #require(report["threads"] as? [[String: Any]])
        #expect(threads.filter { $0["acquisitions"] as? Int == pairs }.count == 2)
    }

    /// Processes started by a shell, one after another and side by side.
    @Test func processesScannedLiveMergeAsAFullScan() throws {
        let run = try Self.record("\"$1\" 1 200000 & \"$1\" 2 100000; wait; \"$1\" 1 150000; sleep 1")
        defer { try? FileManager.default.removeItem(atPath: run.dir) }
        #expect(run.liveChunks > 0, "live_scanned_chunks \(run.liveChunks)")
        #expect(!run.stderr.contains("live scan differs"), "\(run.stderr)")
    }

    /// Python threads: GIL events, Python frames and code objects, queue.Queue's locks.
    @Test func pythonThreadsScannedLiveMergeAsAFullScan() throws {
        let script = "/usr/bin/python3.11 \(Harness.packageRoot)/tools/workloads/py_queue.py 2 2 40000 > /dev/null; sleep 1"
        let run = try Self.record(script)
        defer { try? FileManager.default.removeItem(atPath: run.dir) }
        #expect(run.liveChunks > 0, "live_scanned_chunks \(run.liveChunks)")
        #expect(!run.stderr.contains("live scan differs"), "\(run.stderr)")
    }
}
