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

    /// The traced command's stderr without the lines `gtrace record` itself
    /// prints once the command has ended (its warnings and summary).
    static func programStderr(_ recorded: Harness.Result) -> String {
        recorded.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("gtrace: recorded ") && !$0.hasPrefix("gtrace: warning: ") }
            .joined(separator: "\n")
    }

    /// A change of uid (su, setpriv): the runtime writes nothing on the
    /// program's fds, the processes under the new uid are recorded (drop box),
    /// and each sits under its real parent.
    @Test(arguments: [["/bin/su", "nobody", "-s", "/bin/sh", "-c", "id; echo hi"],
                      ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/bin/sh", "-c", "id; echo hi"]])
    func changeOfUid(command: [String]) throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: command[0]) else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/uid.data"
        let untraced = try Harness.run(command[0], Array(command.dropFirst()))
        let traced = try Harness.gtrace(["record", "-o", trace, "--"] + command)
        #expect(traced.status == untraced.status)
        #expect(traced.stdoutData == untraced.stdoutData)
        #expect(Self.programStderr(traced) == untraced.stderr, "stderr: \(traced.stderr)")
        let report = try Harness.reportJSON(trace)
        let processes = S.processes(report)
        let id = try #require(processes.first { ($0["command"] as? String ?? "") == "id" }, "\(processes.map { $0["command"] ?? "?" })")
        let shell = try #require(processes.first { S.number($0["index"]) == S.number(id["parent"]) }, "id has its parent")
        #expect(["sh -c id; echo hi", "/bin/sh -c id; echo hi"].contains(shell["command"] as? String ?? ""), "\(shell["command"] ?? "?")")
        #expect(shell["instrumented"] as? Bool == true, "the shell under uid nobody is recorded")
        #expect(id["instrumented"] as? Bool == true)
        #expect(S.number(id["ppid"]) == S.number(shell["pid"]))
        #expect(S.number(id["parent"]) == S.number(shell["index"]))
        #expect(shell["parent"] != nil && !(shell["parent"] is NSNull), "the shell has its parent")
        ProcessTreeTests.expectConsistent(report, command[0])
    }

    /// A shell that execs a static program: the shell's image is replaced by
    /// exec when the static one starts, and the command's exit status belongs
    /// to the static image.
    @Test func shellExecsAStaticProgram() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Self.staticProgram(in: dir)
        let trace = "\(dir)/exec.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", "/bin/sh", "-c", "exec \(program)"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let report = try Harness.reportJSON(trace)
        let processes = S.processes(report)
        let shell = try #require(processes.first { ($0["command"] as? String ?? "").hasPrefix("/bin/sh -c exec") })
        let replacing = try #require(processes.first { S.number($0["pid"]) == S.number(shell["pid"]) && ($0["instrumented"] as? Bool) == false })
        #expect(shell["end"] as? String == "replaced by exec", "\(shell["end"] ?? "?")")
        #expect(replacing["end"] as? String == "exited 0", "\(replacing["end"] ?? "?")")
        let shellEnd = S.number(shell["startNanoseconds"]) + S.number(shell["lifetimeNanoseconds"])
        #expect(shellEnd <= S.number(replacing["startNanoseconds"]) + 1_000, "the shell's life ends where the static image starts")
        ProcessTreeTests.expectConsistent(report, "exec of a static program")
    }

    /// Call sites and locks inside a stripped library's internal code are
    /// named `object+0x<link address>`: the same in every run (no ASLR).
    @Test func strippedLibraryAddressesAreObjectOffsets() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tools = "\(Harness.packageRoot)/tools/workloads"
        #expect(try Harness.run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-O1", "-pthread", "-o", "\(dir)/libhidden.so", "\(tools)/lib_hidden_lock.c"]).status == 0)
        #expect(try Harness.run("/usr/bin/env", ["strip", "--strip-all", "\(dir)/libhidden.so"]).status == 0)
        #expect(try Harness.run("/usr/bin/env", ["cc", "-O1", "-pthread", "-o", "\(dir)/use_hidden_lock", "\(tools)/use_hidden_lock.c",
                                                 "-L\(dir)", "-lhidden", "-Wl,-rpath,\(dir)"]).status == 0)
        var seen: [[String]] = []
        for run in 0..<2 {
            let trace = "\(dir)/t\(run).data"
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", "\(dir)/use_hidden_lock"])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let locks = try Harness.reportJSON(trace)["locks"] as? [[String: Any]] ?? []
            let lock = try #require(locks.first { ($0["name"] as? String ?? "").contains("libhidden.so") }, "\(locks.map { $0["name"] ?? "?" })")
            let name = lock["name"] as? String ?? ""
            let site = ((lock["callSites"] as? [[String: Any]])?.first?["site"] as? String) ?? ""
            #expect(name.hasPrefix("libhidden.so+0x"), "\(name)")
            #expect(site.hasPrefix("libhidden.so+0x"), "\(site)")
            seen.append([name, site])
        }
        #expect(seen[0] == seen[1], "the same names in two runs: \(seen)")
    }
}
