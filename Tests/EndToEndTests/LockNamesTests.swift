import Foundation
import Testing

/// Lock and call-site names from the objects' symbols, carried in the trace.
@Suite(.serialized) struct LockNamesTests {
    static func locks(_ trace: String) throws -> [[String: Any]] {
        try Harness.reportJSON(trace)["locks"] as? [[String: Any]] ?? []
    }

    /// How the program is built: with symbols; stripped but exporting them (.dynsym);
    /// stripped with its symbols in a separate debug file named by .gnu_debuglink.
    enum Build: String, CaseIterable { case symbols, dynsym, debuglink }

    /// Builds tools/workloads/named_locks as `build` says, records it, deletes the binary.
    static func recordThenDelete(_ build: Build, in dir: String) throws -> [[String: Any]] {
        let program = try Harness.buildWorkload("named_locks", in: dir, extraFlags: build == .dynsym ? ["-rdynamic"] : ["-g"])
        switch build {
        case .symbols: break
        case .dynsym: _ = try Harness.run("/usr/bin/env", ["strip", "--strip-all", program])
        case .debuglink:
            _ = try Harness.run("/usr/bin/env", ["objcopy", "--only-keep-debug", program, program + ".debug"])
            _ = try Harness.run("/usr/bin/env", ["strip", "--strip-all", program])
            _ = try Harness.run("/usr/bin/env", ["objcopy", "--add-gnu-debuglink=\(program).debug", program])
        }
        let trace = "\(dir)/t.data"
        #expect(try Harness.gtrace(["record", "-o", trace, "--", program]).status == 0)
        try FileManager.default.removeItem(atPath: program)  // names travel in the trace
        // The Chrome slices carry the names too.
        let chrome = "\(dir)/t.json"
        #expect(try Harness.gtrace(["export", trace, "-o", chrome]).status == 0)
        #expect(try String(contentsOfFile: chrome, encoding: .utf8).contains("\"name\":\"hold queue_lock ("))
        return try locks(trace)
    }

    @Test(arguments: Build.allCases)
    func globalsFieldsHeapLocksAndCallSitesAreNamed(build: Build) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let locks = try Self.recordThenDelete(build, in: dir)
        let object = build == .dynsym ? "named_locks-rdynamic" : "named_locks-g"
        let names = locks.compactMap { $0["name"] as? String }
        #expect(names.contains("queue_lock (\(object))"), "\(names)")
        #expect(names.contains("stats+0x8 (\(object))"), "\(names)")
        let heap = names.first { $0.hasPrefix("heap 0x") }
        #expect(heap?.contains(" first used at use_heap+0x") == true && heap?.hasSuffix("(\(object))") == true, "\(names)")
        // The contended lock's call site: in worker_loop, where all 600 acquisitions happened.
        let queue = try #require(locks.first { $0["name"] as? String == "queue_lock (\(object))" })
        let sites = queue["callSites"] as? [[String: Any]] ?? []
        let top = try #require(sites.first)
        #expect((top["site"] as? String)?.hasPrefix("worker_loop+0x") == true && (top["site"] as? String)?.hasSuffix("(\(object))") == true)
        #expect(top["acquisitions"] as? Int == 600)
        #expect((top["waits"] as? Int ?? 0) == queue["waitCount"] as? Int)
    }

    /// A lock in a shared library keeps its name when the program's own file is
    /// gone or damaged by the time the recording ends; the report says which
    /// addresses could not be named.
    @Test(arguments: ["", "--delete-self", "--corrupt-self", "--replace-self"])
    func sharedLibraryLockAndAMissingOrDamagedProgram(mode: String) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.buildUseLibLock(in: dir)
        let trace = "\(dir)/t.data"
        let arguments = mode.isEmpty ? [] : mode == "--replace-self" ? [mode, "\(dir)/liblock.so"] : [mode]
        // A symbol cache of this test's own: the user's may hold this program's symbols by its build-id.
        let environment = Self.ownSymbolCache(in: dir)
        let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", "\(dir)/use_lib_lock"] + arguments, environment: environment)
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let report = try Harness.reportJSON(trace)
        let locks = report["locks"] as? [[String: Any]] ?? []
        let names = locks.compactMap { $0["name"] as? String }
        #expect(names.contains("library_lock (liblock.so)"), "\(names)")
        let library = try #require(locks.first { $0["name"] as? String == "library_lock (liblock.so)" })
        let site = (library["callSites"] as? [[String: Any]])?.first
        #expect((site?["site"] as? String)?.hasPrefix("library_work+0x") == true)
        #expect(site?["acquisitions"] as? Int == 1000)
        let warnings = (report["warnings"] as? [String] ?? []).joined(separator: " ")
        if mode.isEmpty {
            #expect(names.contains("program_lock (use_lib_lock)"), "\(names)")
            #expect(!warnings.contains("cannot name"))
        } else {
            // The program's lock keeps its object and link-time address; the report says why it has no name.
            #expect(names.contains { $0.hasPrefix("use_lib_lock+0x") }, "\(names)")
            if mode == "--replace-self" {
                // Another valid ELF file now: its build-id shows it is not the program that ran.
                #expect(warnings.contains("\(dir)/use_lib_lock changed since the recording"), "\(warnings)")
            } else {
                #expect(warnings.contains("cannot name addresses in \(dir)/use_lib_lock"), "\(warnings)")
                #expect(recorded.stderr.contains("gtrace: warning: cannot name addresses"))
            }
        }
    }

    /// liblock.so and use_lib_lock (which takes a lock of the library's and one of its own), built in `dir`.
    static func buildUseLibLock(in dir: String) throws {
        let tools = "\(Harness.packageRoot)/tools/workloads"
        #expect(try Harness.run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-O1", "-g", "-pthread", "-o", "\(dir)/liblock.so", "\(tools)/lib_lock.c"]).status == 0)
        #expect(try Harness.run("/usr/bin/env", ["cc", "-O1", "-g", "-pthread", "-o", "\(dir)/use_lib_lock", "\(tools)/use_lib_lock.c",
                                                 "-L\(dir)", "-llock", "-Wl,-rpath,\(dir)"]).status == 0)
    }

    /// The environment with a symbol cache of the test's own in `dir`.
    static func ownSymbolCache(in dir: String) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(["GTRACE_SYMBOL_CACHE": "\(dir)/symbols"]) { $1 }
    }

    /// Symbols come back from the cache by build-id: the same names, and the
    /// names of the program that ran even after its file was replaced.
    @Test func theSymbolCacheNamesWhatWasLoaded() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.buildUseLibLock(in: dir)
        let environment = Self.ownSymbolCache(in: dir)
        func record(_ arguments: [String]) throws -> (cached: Int, locks: [String]) {
            let recorded = try Harness.run(Harness.gtrace, ["record", "-o", "\(dir)/t.data", "--", "\(dir)/use_lib_lock"] + arguments,
                                           environment: environment)
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let summary = recorded.stderr.split(separator: "\n").last { $0.hasPrefix("gtrace: recorded") } ?? ""
            let cached = summary.split(separator: " ").firstIndex(of: "cached)").map { Int(summary.split(separator: " ")[$0 - 1]) ?? -1 } ?? -1
            let report = try Harness.reportJSON("\(dir)/t.data")
            let locks = (report["locks"] as? [[String: Any]] ?? []).map { "\($0["name"] ?? "?") \(($0["callSites"] as? [[String: Any]])?.first?["site"] ?? "-")" }
            return (cached, locks.sorted())
        }
        let first = try record([])
        #expect(first.cached == 0)
        #expect(first.locks.contains { $0.hasPrefix("program_lock (use_lib_lock)") }, "\(first.locks)")
        let second = try record([])
        #expect(second.cached >= 2, "the program and liblock.so from the cache")
        #expect(second.locks == first.locks)
        let replaced = try record(["--replace-self", "\(dir)/liblock.so"])
        #expect(replaced.locks.contains { $0.hasPrefix("program_lock (use_lib_lock)") }, "the cached symbols of the program that ran: \(replaced.locks)")
    }

    @Test func cxxNamesAreDemangled() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = "\(dir)/cxx_locks"
        #expect(try Harness.run("/usr/bin/env", ["g++", "-O1", "-g", "-pthread", "-o", program,
                                                 "\(Harness.packageRoot)/tools/workloads/cxx_locks.cpp"]).status == 0)
        let trace = "\(dir)/t.data"
        #expect(try Harness.gtrace(["record", "-o", trace, "--", program]).status == 0)
        let lock = try #require(try Self.locks(trace).first)
        #expect(lock["name"] as? String == "jobs::Queue::guard_ (cxx_locks)")
        let site = (lock["callSites"] as? [[String: Any]])?.first?["site"] as? String
        #expect(site?.hasPrefix("jobs::Queue::push(int)+0x") == true, "\(site ?? "-")")
    }
}
