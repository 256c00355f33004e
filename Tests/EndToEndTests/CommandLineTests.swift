import Foundation
import Testing

/// Errors are one line naming the subject, with the documented exit codes.
@Suite struct CommandLineTests {
    @Test func badArgumentsExit64WithOneLine() throws {
        let result = try Harness.gtrace(["report", "--no-such-option"])
        #expect(result.status == 64)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("--no-such-option"))
        let missing = try Harness.gtrace(["record"])
        #expect(missing.status == 64)
        #expect(missing.stderr.split(separator: "\n").count == 1)
    }

    @Test func foreignUnreadableAndTruncatedTraces() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("not a trace".utf8).write(to: URL(fileURLWithPath: "\(dir)/foreign"))
        let foreign = try Harness.gtrace(["report", "\(dir)/foreign"])
        #expect(foreign.status == 1)
        #expect(foreign.stderr == "gtrace: \(dir)/foreign: not a gtrace trace (bad magic bytes at offset 0)\n")
        let missing = try Harness.gtrace(["report", "\(dir)/missing"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("gtrace: \(dir)/missing: cannot read"))
        #expect(missing.stderr.split(separator: "\n").count == 1)

        // A real trace cut in half: complete records plus a warning naming the byte.
        let workload = try Harness.buildWorkload("passthrough", in: dir)
        let trace = "\(dir)/t.data"
        #expect(try Harness.gtrace(["record", "-o", trace, "--", workload, "threads", "4"]).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: trace))
        try bytes.prefix(bytes.count - bytes.count / 3).write(to: URL(fileURLWithPath: "\(dir)/cut.data"))
        let cut = try Harness.gtrace(["report", "\(dir)/cut.data"])
        #expect(cut.status == 0)
        #expect(cut.stdout.contains("warning: \(dir)/cut.data: truncated at byte "))
        let dumped = try Harness.gtrace(["dump", "\(dir)/cut.data"])
        #expect(dumped.stderr.contains("truncated at byte"))
    }

    @Test func recordRefusesToOverwriteAForeignFile() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let precious = "\(dir)/notes.txt"
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: precious))
        let result = try Harness.gtrace(["record", "-o", precious, "--", "/bin/true"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("refusing to overwrite"))
        #expect(try String(contentsOfFile: precious, encoding: .utf8) == "keep me\n")
        // An existing trace is replaced.
        let trace = "\(dir)/t.data"
        #expect(try Harness.gtrace(["record", "-o", trace, "--", "/bin/true"]).status == 0)
        #expect(try Harness.gtrace(["record", "-o", trace, "--", "/bin/true"]).status == 0)
    }

    @Test func recordHelpIsHelpNotACommand() throws {
        for flag in ["--help", "-h"] {
            let help = try Harness.gtrace(["record", flag])
            #expect(help.status == 0, "\(flag): \(help.stderr)")
            #expect(help.stdout.contains("USAGE: gtrace record"), "\(flag): \(help.stdout)")
        }
        // After "--" it is the command's name, as any other.
        let named = try Harness.gtrace(["record", "-o", "\(NSTemporaryDirectory())/gtrace-help-\(getpid()).data", "--", "--help"])
        #expect(named.status == 127 && named.stderr.contains("--help"))
    }

    @Test func commandsThatCannotRun() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let notFound = try Harness.gtrace(["record", "-o", "\(dir)/a.data", "--", "\(dir)/no-such-program"])
        #expect(notFound.status == 127)
        #expect(notFound.stderr.contains("no-such-program"))
        let plain = "\(dir)/plain"
        try Data("data".utf8).write(to: URL(fileURLWithPath: plain))
        let notExecutable = try Harness.gtrace(["record", "-o", "\(dir)/b.data", "--", plain])
        #expect(notExecutable.status == 126)
    }

    @Test func staticProgramIsReportedAsNotRecorded() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = "\(dir)/static.c"
        try "int main(void) { return 9; }\n".write(toFile: source, atomically: true, encoding: .utf8)
        let program = try Harness.buildWorkload(source, in: dir, extraFlags: ["-static"])
        let result = try Harness.gtrace(["record", "-o", "\(dir)/s.data", "--", program])
        #expect(result.status == 9)
        #expect(result.stderr.contains("nothing was recorded"))
        let processes = try #require(try Harness.reportJSON("\(dir)/s.data")["processes"] as? [[String: Any]])
        #expect(processes.count == 1)
        #expect(processes.first?["exitStatus"] as? Int == 9)
    }

    /// A static C program's threads taking turns on a pthread mutex: the runtime cannot
    /// enter it, so their waits are invisible, and the verdict blamed "futex-based locks
    /// of Rust, Go or Java". It now names the process as static (it was linked so here).
    @Test func aStaticProgramsInvisibleWaitsAreSaidToBeItsOwn() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("lock_schedule", in: dir, extraFlags: ["-static"])
        let trace = "\(dir)/t.data"
        let run = try Harness.gtrace(["record", "-o", trace, "--", program, "4", "100", "500"])
        try #require(run.status == 0, "\(run.stderr)")
        let report = try Harness.reportJSON(trace)
        let process = try #require((report["processes"] as? [[String: Any]])?.first)
        #expect(process["instrumented"] as? Bool == false, "\(process)")
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: " ")
        let pid = process["pid"] as? Int ?? -1
        #expect(verdict.contains("process \(pid) is static or setuid"), "\(verdict)")
        #expect(!verdict.contains("Rust, Go or Java"), "\(verdict)")
    }
}
