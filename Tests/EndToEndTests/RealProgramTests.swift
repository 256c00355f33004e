import Foundation
import Testing

/// Process shapes real programs have (issue 12): a static parent with a traced
/// child, a change of uid, a shell that execs a static program. The trace must
/// stay readable, the program's output untouched, and every process placed.
@Suite(.serialized) struct RealProgramTests {
    typealias S = SchedulingTests

    static func staticProgram(in dir: String) throws -> String {
        try Harness.buildWorkload("static_fork_exec", in: dir, extraFlags: ["-static"])
    }

    /// `report`, `dump` and `export` all read the trace.
    static func expectReadable(_ trace: String) throws {
        for command in [["report", trace], ["report", "--details", trace], ["dump", trace],
                        ["export", "-o", trace + ".json", trace]] {
            let r = try Harness.gtrace(command)
            #expect(r.status == 0, "gtrace \(command[0]): \(r.stderr)")
        }
    }

    @Test func staticParentWithATracedChild() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Self.staticProgram(in: dir)
        let trace = "\(dir)/st.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", program])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stdout == "child\nparent done\n")
        try Self.expectReadable(trace)
        let report = try Harness.reportJSON(trace)
        let processes = S.processes(report)
        let parent = try #require(processes.first { ($0["instrumented"] as? Bool) == false })
        let echo = try #require(processes.first { ($0["command"] as? String ?? "").hasPrefix("echo") })
        #expect(S.number(echo["ppid"]) == S.number(parent["pid"]))
        #expect(S.number(echo["parent"]) == S.number(parent["index"]), "echo's parent: \(echo["parent"] ?? "none")")
        ProcessTreeTests.expectConsistent(report, "static parent")
    }

    @Test func staticParentUnderAShell() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Self.staticProgram(in: dir)
        let trace = "\(dir)/sh.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", "/bin/sh", "-c", "\(program); true"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stdout == "child\nparent done\n")
        try Self.expectReadable(trace)
        let processes = S.processes(try Harness.reportJSON(trace))
        let shell = try #require(processes.first { ($0["command"] as? String ?? "").hasPrefix("/bin/sh") })
        let parent = try #require(processes.first { ($0["instrumented"] as? Bool) == false })
        let echo = try #require(processes.first { ($0["command"] as? String ?? "").hasPrefix("echo") })
        #expect(S.number(parent["ppid"]) == S.number(shell["pid"]), "the static program is the shell's child")
        #expect(S.number(parent["parent"]) == S.number(shell["index"]))
        #expect(S.number(echo["parent"]) == S.number(parent["index"]))
        #expect((parent["end"] as? String ?? "") == "exited 0", "the shell's wait3 gives the status: \(parent["end"] ?? "?")")
    }

    /// A trace holds command lines, paths and symbol names: 0600 like perf.data,
    /// also when it replaces an older trace that was 0644.
    @Test func traceFileIsPrivate() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/mode.data"
        let first = try Harness.gtrace(["record", "-o", trace, "--", "/bin/true"])
        #expect(first.status == 0, "\(first.stderr)")
        func mode() throws -> Int { (try FileManager.default.attributesOfItem(atPath: trace)[.posixPermissions] as? NSNumber)?.intValue ?? -1 }
        #expect(try mode() == 0o600)
        chmod(trace, 0o644)
        let again = try Harness.gtrace(["record", "-o", trace, "--", "/bin/true"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try mode() == 0o600)
    }
}
