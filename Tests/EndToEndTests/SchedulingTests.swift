import Foundation
import Testing

/// Scheduling truth: on-CPU time from perf against each thread's own CPU
/// clock, the fallback without perf, and blocking calls with known lengths.
@Suite(.serialized) struct SchedulingTests {
    /// perf is expected wherever the kernel allows it unprivileged.
    static var perfAllowed: Bool {
        let level = (try? String(contentsOfFile: "/proc/sys/kernel/perf_event_paranoid", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 3
        return level <= 2 || getuid() == 0
    }

    static func threads(_ report: [String: Any]) -> [[String: Any]] { report["threads"] as? [[String: Any]] ?? [] }
    static func processes(_ report: [String: Any]) -> [[String: Any]] { report["processes"] as? [[String: Any]] ?? [] }
    static func states(_ thread: [String: Any]) -> [String: Any] { thread["states"] as? [String: Any] ?? [:] }
    static func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? -1 }

    @Test func onCPUTimeMatchesEachThreadsCPUClock() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let workload = try Harness.buildWorkload("cpu_threads", in: dir)
        let trace = "\(dir)/t.data"
        // perf counts the hypervisor's steal as on-CPU time, the thread's clock does not:
        // a disturbed run is redone, and what remains stolen is allowed (`Steal`).
        try Remeasure.upTo(3, "on-CPU against the thread clocks") { timing in
            let (recorded, stolenSeconds) = try Steal.quietest { try Harness.gtrace(["record", "-o", trace, "--", workload, "2", "300"]) }
            let stolen = stolenSeconds * 1e9
            #expect(recorded.status == 0, "\(recorded.stderr)")
            // "thread <tid> cpu_ns <ns>": CLOCK_THREAD_CPUTIME_ID read by the thread as it finishes.
            var truth: [Int: Double] = [:]
            for line in recorded.stdout.split(separator: "\n") {
                let words = line.split(separator: " ")
                if words.count == 4, words[0] == "thread", let tid = Int(words[1]), let ns = Double(words[3]) { truth[tid] = ns }
            }
            #expect(truth.count == 2)
            let report = try Harness.reportJSON(trace)
            let summary = report["summary"] as? [String: Any] ?? [:]
            guard Self.perfAllowed else {
                #expect(summary["scheduling"] as? String == "wrappers")
                return
            }
            #expect(summary["scheduling"] as? String == "perf")
            for (tid, cpu) in truth {
                let thread = Self.threads(report).first { ($0["tid"] as? Int) == tid }
                let onCPU = Self.number(Self.states(thread ?? [:])["onCPUNanoseconds"])
                // The thread runs a few µs more after reading its clock (return, exit).
                timing.expect(abs(onCPU - cpu) <= 0.01 * cpu + stolen, "tid \(tid): perf on-CPU \(onCPU) ns, thread CPU clock \(cpu) ns, stolen \(stolen) ns")
                // Two spinning threads on two cores: almost all of the lifetime is running.
                let states = Self.states(thread ?? [:])
                timing.expect(Self.number(states["runningNanoseconds"]) >= 0.9 * cpu, "tid \(tid): running \(Self.number(states["runningNanoseconds"])) ns, CPU clock \(cpu) ns")
            }
        }
    }

    @Test func withoutPerfTheWrappersStillSplitBlockedTime() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        var environment = Foundation.ProcessInfo.processInfo.environment
        environment["GTRACE_NO_PERF"] = "1"
        let script = "import time, subprocess; time.sleep(0.3); subprocess.run(['sleep', '0.4'])"
        try Remeasure.upTo(3, "wrappers' blocked time") { timing in
            let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", "/usr/bin/python3", "-c", script],
                                           environment: environment)
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let summary = report["summary"] as? [String: Any] ?? [:]
            #expect(summary["scheduling"] as? String == "wrappers")
            #expect((summary["schedulingNote"] as? String ?? "").contains("GTRACE_NO_PERF"))
            let python = Self.threads(report).first { ($0["name"] as? String ?? "").hasPrefix("python") }
            let states = Self.states(python ?? [:])
            let sleeping = Self.number(states["sleepingNanoseconds"]), childWait = Self.number(states["childWaitNanoseconds"])
            timing.expect(abs(sleeping - 300e6) < 30e6, "sleeping \(sleeping) ns")
            timing.expect(abs(childWait - 400e6) < 50e6, "child wait \(childWait) ns")
            let text = try Harness.gtrace(["report", "--details", trace]).stdout
            #expect(text.contains("blocking calls only"))
        }
    }

    @Test func blockingCallsAreNamedWithTheirDurations() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        // A pipe read that blocks 200 ms while a thread sleeps, then writes.
        let script = """
        import os, threading, time
        r, w = os.pipe()
        def writer():
            time.sleep(0.2)
            os.write(w, b"x")
        t = threading.Thread(target=writer)
        t.start()
        os.read(r, 1)
        t.join()
        """
        try Remeasure.upTo(3, "blocking calls' durations") { timing in
            let recorded = try Harness.gtrace(["record", "-o", trace, "--", "/usr/bin/python3", "-c", script])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let threads = Self.threads(report)
            let calls = threads.flatMap { $0["blockingCalls"] as? [[String: Any]] ?? [] }
            let read = calls.first { $0["call"] as? String == "read" }
            timing.expect(abs(Self.number(read?["totalNanoseconds"]) - 200e6) < 30e6, "read: \(String(describing: read))")
            let sleep = calls.first { $0["call"] as? String == "clock_nanosleep" }
            timing.expect(abs(Self.number(sleep?["totalNanoseconds"]) - 200e6) < 30e6, "sleep: \(String(describing: sleep))")
            let main = threads.first { Self.number($0["tid"]) == Self.number(Self.processes(report).first?["pid"]) }
            timing.expect(Self.number(Self.states(main ?? [:])["ioNanoseconds"]) > 150e6, "main thread I/O \(Self.number(Self.states(main ?? [:])["ioNanoseconds"])) ns")
            // The Chrome trace names the slice by the call.
            let chrome = "\(dir)/t.json"
            #expect(try Harness.gtrace(["report", "--chrome", chrome, trace]).status == 0)
            let json = try String(contentsOfFile: chrome, encoding: .utf8)
            #expect(json.contains("\"name\":\"read(fd "))
            // Named by the time asked for: CPython ≥ 3.11 sleeps to an absolute deadline, recorded as
            // the time left when the call began, a little under 200 ms.
            #expect(json.range(of: #""name":"clock_nanosleep (199\.[5-9]|200) ms""#, options: .regularExpression) != nil)
            #expect(json.contains("\"cat\":\"on-cpu\""))
        }
    }
}
