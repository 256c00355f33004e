import Foundation
import Testing

/// Records the Python seed experiments on every CPython 3.8–3.15 present and
/// checks gtrace's GIL numbers against CPython's own counters and each
/// thread's own CPU clock.
@Suite(.serialized) struct GILTruthTests {
    struct Workload: Decodable {
        struct Thread: Decodable {
            var native_id: Int
            var thread_cpu_s: Double
        }
        var python: String
        var threads: [Thread]?
        var child_pids: [Int]?
        var exit_codes: [Int]?
    }

    struct Recording {
        var workload: Workload
        var report: [String: Any]
        var gil: [[String: Any]] { report["gil"] as? [[String: Any]] ?? [] }
    }

    static func record(_ python: PythonVersions.Interpreter, _ script: String, _ arguments: [String]) throws -> Recording {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let result = try Harness.gtrace(["record", "-o", trace, "--", python.path,
                                         "\(Harness.packageRoot)/tools/workloads/\(script)"] + arguments)
        guard result.status == 0 else {
            throw Harness.HarnessError(message: "\(python) \(script) exited \(result.status): \(result.stderr)")
        }
        let workload = try JSONDecoder().decode(Workload.self, from: result.stdoutData)
        return Recording(workload: workload, report: try Harness.reportJSON(trace))
    }

    @Test func everyWantedVersionIsPresentOrReported() {
        if !PythonVersions.absent.isEmpty {
            print("GILTruthTests: CPython \(PythonVersions.absent.joined(separator: ", ")) not installed here; those versions are not tested")
        }
        #expect(PythonVersions.missingRequired.isEmpty, "required by GTRACE_REQUIRE_PYTHONS but absent: \(PythonVersions.missingRequired)")
    }

    @Test(arguments: PythonVersions.installed)
    func cpuBoundThreadsHoldTheGILAndMatchCPython(python: PythonVersions.Interpreter) throws {
        // The hypervisor's steal is on-CPU time to perf and a longer hold, but not
        // thread CPU time: the comparisons below allow what it took during the run.
        try Remeasure.upTo(3, "\(python) seed 1") { timing in
            let (run, stolen) = try Steal.quietest { try Self.record(python, "seed1_count.py", ["threads", "--workers", "4", "--size", "12000000"]) }
            let gil = try #require(run.gil.first, "no GIL section for \(python)")
            #expect((gil["located"] as? String)?.contains("version layout + mutex-init pattern") == true, "\(gil["located"] ?? "")")
            // Hand-offs are exact: CPython's own switch_number − 1.
            let handOffs = try #require(gil["handOffs"] as? Int)
            #expect(handOffs == gil["cpythonHandOffs"] as? Int, "\(python): \(handOffs) vs CPython \(gil["cpythonHandOffs"] ?? "-")")
            #expect(handOffs >= 4)
            // Seed experiment 1 with threads: GIL held at least 95% of the threaded window.
            let held = try #require(gil["heldRatioMultithreaded"] as? Double)
            timing.expect(held >= 0.95, "\(python): held \(held)")
            // Each worker's GIL-held time within 3% of its own CPU time, plus the time it
            // was kept off the CPU while holding it (preempted, or its vCPU stolen: perf
            // says how long; on this VM that reached 7% on 3.13). With perf, its on-CPU
            // time holding the GIL is within 3% of its CPU time too.
            let threads = try #require(run.report["threads"] as? [[String: Any]])
            for worker in try #require(run.workload.threads) {
                let row = try #require(threads.first { $0["tid"] as? Int == worker.native_id }, "thread \(worker.native_id)")
                let holding = try #require((row["gil"] as? [String: Any])?["holdingNanoseconds"] as? Double) / 1e9
                let cpu = worker.thread_cpu_s
                let states = row["states"] as? [String: Any] ?? [:]
                func seconds(_ key: String) -> Double { ((states[key] as? NSNumber)?.doubleValue ?? 0) / 1e9 }
                let offCPU = seconds("runnableNanoseconds") + seconds("otherOffCPUNanoseconds")
                timing.expect(holding >= 0.97 * cpu && holding <= 1.03 * cpu + offCPU + stolen,
                              "\(python) tid \(worker.native_id): GIL held \(holding) s, thread CPU \(cpu) s, off CPU \(offCPU) s, stolen \(stolen) s")
                if SchedulingTests.perfAllowed {
                    let running = seconds("runningWithGILNanoseconds") + seconds("runningNanoseconds")
                    timing.expect(running >= 0.97 * cpu && running <= 1.03 * cpu + stolen,
                                  "\(python) tid \(worker.native_id): on-CPU \(running) s, thread CPU \(cpu) s, stolen \(stolen) s")
                }
            }
            let verdict = (run.report["verdict"] as? [String] ?? []).joined(separator: " ")
            #expect(verdict.contains("CPU-bound Python under the GIL"), "\(verdict)")
        }
    }

    @Test(arguments: PythonVersions.installed)
    func sleepingThreadsLeaveTheGILFree(python: PythonVersions.Interpreter) throws {
        // Sleeps of 0.3 s against ~20–40 ms of counting: the share stays low even
        // when this VM runs slow (with 0.1 s sleeps 3.9 reached 22% once).
        try Remeasure.upTo(3, "\(python) seed 2") { timing in
            let run = try Steal.quietest { try Self.record(python, "seed2_count_sleep.py", ["threads", "--sleep", "0.3"]) }.value
            let gil = try #require(run.gil.first)
            let held = try #require(gil["heldRatioMultithreaded"] as? Double)
            timing.expect(held <= 0.20, "\(python): held \(held)")
            #expect(gil["handOffs"] as? Int == gil["cpythonHandOffs"] as? Int)
            #expect((run.report["verdict"] as? [String] ?? []).joined().contains("The GIL was mostly free"))
        }
    }

    @Test(arguments: PythonVersions.installed)
    func threadsWaitingForChildrenLeaveTheGILFree(python: PythonVersions.Interpreter) throws {
        try Remeasure.upTo(3, "\(python) seed 7") { timing in
            let run = try Self.record(python, "seed7_subprocess.py", ["threads", "--seconds", "0.3"])
            // The sleep children are not Python: only the parent has a GIL section.
            #expect(run.gil.count == 1)
            let gil = try #require(run.gil.first)
            let held = try #require(gil["heldRatioMultithreaded"] as? Double)
            timing.expect(held <= 0.20, "\(python): held \(held)")
            #expect(gil["handOffs"] as? Int == gil["cpythonHandOffs"] as? Int)
        }
    }

    @Test(arguments: PythonVersions.installed)
    func everyChildProcessHasItsOwnGIL(python: PythonVersions.Interpreter) throws {
        let run = try Self.record(python, "seed3_count_sleep_processes.py", ["processes", "--workers", "4"])
        #expect(run.workload.exit_codes == [0, 0, 0, 0])
        let children = Set(try #require(run.workload.child_pids))
        let gilPids = Set(run.gil.compactMap { $0["pid"] as? Int })
        #expect(children.isSubset(of: gilPids), "\(python): children \(children), GIL sections \(gilPids)")
        for gil in run.gil {
            #expect(gil["handOffs"] as? Int == gil["cpythonHandOffs"] as? Int, "\(python) pid \(gil["pid"] ?? 0)")
        }
    }
}

extension GILTruthTests {
    /// Interpreters created after start-up with their own GIL (3.12+): each GIL is found and traced.
    @Test(arguments: PythonVersions.installed.filter { ["3.12", "3.13", "3.14", "3.15"].contains($0.version) })
    func subinterpreterGILsAreTracedToo(python: PythonVersions.Interpreter) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let result = try Harness.gtrace(["record", "-o", trace, "--", python.path,
                                         "\(Harness.packageRoot)/tools/workloads/subinterpreters.py"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try Harness.reportJSON(trace)
        let gils = try #require(report["gil"] as? [[String: Any]])
        let own = gils.filter { ($0["located"] as? String)?.contains("subinterpreter") == true }
        #expect(own.count == 2, "\(python): \(gils.map { $0["located"] ?? "" })")
        #expect(gils.filter { $0["subinterpreter"] as? Bool == true }.count == 2)
        // They run Python in parallel, not "outside the GIL"; and as threads of one
        // interpreter they would not start two more.
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
        #expect(!verdict.contains("ran outside the GIL (in C code that releases it) in parallel"), "\(python): \(verdict)")
        if verdict.contains("Limited by the cores") {
            #expect(verdict.contains("in subinterpreters that each have a GIL of their own"), "\(python): \(verdict)")
        }
        if verdict.contains("As threads of one") {
            #expect(verdict.contains("As threads of one interpreter (one GIL for its 3 interpreters)") && verdict.contains("2 of them are subinterpreters"),
                    "\(python): \(verdict)")
        }
        // Each subinterpreter's thread held its own GIL for (nearly) all the CPU time it used.
        // (Not a share of the wall time: on a shared VM the two threads' CPU speed varies by 2x.)
        let threads = report["threads"] as? [[String: Any]] ?? []
        let workerCPU = threads.filter { ($0["tid"] as? Int) != ($0["pid"] as? Int) }.compactMap { $0["cpuNanoseconds"] as? Double }
        let smallest = try #require(workerCPU.min())
        for gil in own {
            #expect((gil["heldNanoseconds"] as? Double ?? 0) >= 0.8 * smallest, "\(python): held \(gil["heldNanoseconds"] ?? 0), worker CPU \(workerCPU)")
            #expect((gil["acquisitions"] as? Int ?? 0) >= 1)
        }
    }
}

extension GILTruthTests {
    /// A free-threaded CPython (3.14t) has no GIL. None can be installed here, so a
    /// stand-in exports what the runtime reads (_PyRuntime, Py_Version and the
    /// version string of a free-threaded build): the runtime traces no GIL and the
    /// verdict says the GIL is disabled. Untested on a real free-threaded build.
    @Test func aFreeThreadedBuildIsReportedWithoutAGIL() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("fake_free_threaded", in: dir, extraFlags: ["-rdynamic"])
        let trace = "\(dir)/t.data"
        let result = try Harness.gtrace(["record", "-o", trace, "--", program])
        #expect(result.status == 0 && result.stdout == "ok\n", "\(result.stderr)")
        let dump = try Harness.gtrace(["dump", trace]).stdout
        #expect(dump.contains("status=0x8 (GIL disabled (free-threaded build))"), "\(dump.split(separator: "\n").filter { $0.hasPrefix("gil") })")
        let report = try Harness.reportJSON(trace)
        #expect((report["gil"] as? [[String: Any]] ?? []).filter { $0["traced"] as? Bool == true }.isEmpty)
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
        #expect(verdict.contains("free-threaded CPython 3.14.0 (GIL disabled)"), "\(verdict)")
        #expect(!verdict.contains("under the GIL"), "\(verdict)")
    }
}

extension GILTruthTests {
    /// Two threads entering one subinterpreter that shares the main GIL (3.12+):
    /// each entry changes the thread's thread state without a hand-off to another
    /// thread, and CPython's switch_number counts it. The runtime counts those
    /// changes apart, and hand-offs plus them must give switch_number exactly.
    @Test(arguments: PythonVersions.installed.filter { ["3.12", "3.13", "3.14", "3.15"].contains($0.version) })
    func threadStateChangesWithinAThreadAreCountedApart(python: PythonVersions.Interpreter) throws {
        let run = try Self.record(python, "subinterpreters.py", ["--shared", "50"])
        #expect(run.gil.count == 1, "\(python): \(run.gil.count) GIL sections")
        let gil = try #require(run.gil.first)
        let handOffs = try #require(gil["handOffs"] as? Int)
        let within = try #require(gil["sameThreadSwitches"] as? Int, "\(python): no count of same-thread switches")
        let reused = gil["reusedThreadStates"] as? Int ?? 0
        let cpython = try #require(gil["cpythonHandOffs"] as? Int)
        // 2 threads × 50 entries, each entering and leaving: at least 100 changes within a thread.
        #expect(within >= 100, "\(python): \(within) same-thread switches")
        #expect(handOffs + within - reused == cpython, "\(python): \(handOffs) + \(within) − \(reused) vs CPython \(cpython)")
        #expect(gil["matchesCPython"] as? Bool == true)
    }
}
