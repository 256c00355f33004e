import Foundation
import Testing

/// A command that failed is said to have failed (Analyzer+CommandExit.swift): a run
/// that stopped at its first error was described like any other. The truth is the
/// status `gtrace record` passes on, which is the command's.
@Suite struct CommandExitTests {
    /// Records `sh -c script`: the status `record` passed on, its stderr, and the verdict.
    static func record(_ script: String) throws -> (status: Int32, stderr: String, verdict: [String]) {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", "/bin/sh", "-c", script])
        return (recorded.status, recorded.stderr, (try Harness.reportJSON(trace))["verdict"] as? [String] ?? [])
    }

    @Test func aCommandThatExitsNonZeroIsSaidToHaveFailed() throws {
        let run = try Self.record("sleep 0.01; exit 3")
        #expect(run.status == 3, "\(run.stderr)")
        let said = run.verdict.last ?? ""
        #expect(said.hasPrefix("The command did not succeed: process ") && said.contains("(/bin/sh -c sleep 0.01; exit 3) ended with ") && said.contains("exit(3)"), "\(said)")
    }

    @Test func aCommandKilledByASignalIsSaidToHaveFailed() throws {
        let run = try Self.record("exec python3 -c 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)'")
        #expect(run.status == 128 + 15, "\(run.stderr)")
        let said = run.verdict.last ?? ""
        #expect(said.hasPrefix("The command did not succeed: process ") && said.contains(") was killed by SIGTERM, so"), "\(said)")
    }

    @Test func aCommandThatSucceedsIsNotSaidToHaveFailed() throws {
        let run = try Self.record("sleep 0.01; false; exit 0")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.verdict.isEmpty && !run.verdict.contains { $0.contains("did not succeed") }, "\(run.verdict)")
    }
}
