import Foundation
import Testing

/// A command that failed is said to have failed (Analyzer+CommandExit.swift): a run
/// that stopped at its first error was described like any other. The truth is the
/// status `gtrace record` passes on, which is the command's.
@Suite struct CommandExitTests {
    static func lastSentence(_ trace: String) throws -> String {
        ((try Harness.reportJSON(trace))["verdict"] as? [String] ?? []).last ?? ""
    }

    @Test func aCommandThatExitsNonZeroIsSaidToHaveFailed() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", "/bin/sh", "-c", "sleep 0.01; exit 3"])
        #expect(recorded.status == 3, "\(recorded.stderr)")
        let said = try Self.lastSentence(trace)
        #expect(said.hasPrefix("The command did not succeed: process ") && said.contains("(/bin/sh -c sleep 0.01; exit 3) ended with ") && said.contains("exit(3)"), "\(said)")
    }

    @Test func aCommandKilledByASignalIsSaidToHaveFailed() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", "/bin/sh", "-c", "exec python3 -c 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)'"])
        #expect(recorded.status == 128 + 15, "\(recorded.stderr)")
        let said = try Self.lastSentence(trace)
        #expect(said.hasPrefix("The command did not succeed: process ") && said.contains(") was killed by SIGTERM, so"), "\(said)")
    }

    @Test func aCommandThatSucceedsIsNotSaidToHaveFailed() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", "/bin/sh", "-c", "sleep 0.01; false; exit 0"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let verdict = (try Harness.reportJSON(trace))["verdict"] as? [String] ?? []
        #expect(!verdict.isEmpty && !verdict.contains { $0.contains("did not succeed") }, "\(verdict)")
    }
}
