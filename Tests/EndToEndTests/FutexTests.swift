import Foundation
import Testing

/// Futex words waited on and woken through libc's syscall(): exact counts and
/// durations against the program's own, and syscall() itself unchanged.
@Suite(.serialized) struct FutexTests {
    /// `key=value` pairs of the program's line starting with `prefix`.
    static func values(_ output: String, line prefix: String) -> [String: Double] {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix + " ") }) else { return [:] }
        var out: [String: Double] = [:]
        for field in line.split(separator: " ").dropFirst() {
            let parts = field.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let v = Double(parts[1]) { out[String(parts[0])] = v }
        }
        return out
    }

    static func futexLocks(_ report: [String: Any]) -> [[String: Any]] {
        (report["locks"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "futex" }
    }

    static func lock(_ locks: [[String: Any]], named prefix: String) -> [String: Any]? {
        locks.first { ($0["name"] as? String)?.hasPrefix(prefix + " (") == true }
    }

    @Test func knownScheduleExactCountsAndDurations() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("futex_schedule", in: dir)
        let plain = try Harness.run(program, [])
        #expect(plain.status == 0)
        let trace = "\(dir)/t.gtrace"
        let traced = try Harness.gtrace(["record", "-o", trace, "--", program])
        #expect(traced.status == 0, "\(traced.stderr)")
        // Every result and errno the program saw is the same with the preload
        // (the EINTR wait, the restarted one, EAGAIN, timeouts, EFAULT, ENOSYS,
        // errno kept on success, other syscall numbers).
        func deterministic(_ s: String) -> [Substring] { s.split(separator: "\n").filter { !$0.hasPrefix("time ") } }
        #expect(deterministic(traced.stdout) == deterministic(plain.stdout))
        #expect(plain.stdout.contains("eintr-wait result=-1 errno=EINTR"))
        #expect(plain.stdout.contains("restart-wait result=0 errno=0"))

        let counts = Self.values(traced.stdout, line: "count")
        let times = Self.values(traced.stdout, line: "time")
        let locks = Self.futexLocks(try Harness.reportJSON(trace))
        func futex(_ name: String) throws -> [String: Any] {
            try #require(Self.lock(locks, named: name)?["futex"] as? [String: Any], "\(name) in \(locks.map { $0["name"] ?? "" })")
        }
        func total(_ key: String) -> Int { locks.reduce(0) { $0 + (($1["futex"] as? [String: Any])?[key] as? Int ?? 0) } }
        // Exact counts: the program's own outcome counters (the EFAULT wait is an "other error").
        #expect(Double(total("woken")) == counts["woken"])
        #expect(Double(total("valueChanged")) == counts["eagain"])
        #expect(Double(total("timedOut")) == counts["timedout"])
        #expect(Double(total("interrupted")) == counts["interrupted"])
        #expect(Double(total("wakeCalls")) == counts["wakes"])
        #expect(Double(total("threadsWoken")) == counts["woke"])
        #expect(total("otherErrors") == 1)
        // Per word: named after its global, with the schedule's outcomes.
        #expect(try futex("handoff_word")["woken"] as? Int == 5)
        #expect(try futex("handoff_word")["handOffs"] as? Int == 5)
        #expect(try futex("changed_word")["valueChanged"] as? Int == 3)
        #expect(try futex("timeout_word")["timedOut"] as? Int == 2)
        #expect(try futex("signal_word")["interrupted"] as? Int == 1)
        #expect(try futex("idle_word")["wakeCalls"] as? Int == 2)
        // Durations within 5% of the waiting thread's own clock.
        for name in ["handoff_word", "timeout_word", "signal_word"] {
            let lock = try #require(Self.lock(locks, named: name))
            let recorded = Double(lock["waitTotalNanoseconds"] as? Int ?? 0)
            let own = try #require(times[name])
            #expect(abs(recorded - own) <= 0.05 * own, "\(name): recorded \(recorded) ns, program \(own) ns")
        }
        // The waits' call site is the program's futex_call (the return address of syscall()).
        let sites = try #require(Self.lock(locks, named: "handoff_word")?["callSites"] as? [[String: Any]])
        #expect(sites.contains { ($0["site"] as? String)?.hasPrefix("futex_call+0x") == true && $0["waits"] as? Int == 5 }, "\(sites)")
        // The report's futex table says what is and is not seen.
        let text = try Harness.gtrace(["report", "--details", trace]).stdout
        #expect(text.contains("futex: waits only"))
    }

    /// A tool on the PATH, or in one of `extra`.
    static func tool(_ name: String, extra: [String] = []) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        let candidates = path.split(separator: ":").map { "\($0)/\(name)" } + extra + ["\(home)/.cargo/bin/\(name)"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Rust std's Mutex, RwLock and Condvar are futex words named after their
    /// statics; wait totals agree with the threads' own clocks within 5%.
    @Test func rustStdLocks() throws {
        let rustc = try #require(Self.tool("rustc"), "rustc not found (tools/setup installs it)")
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = "\(dir)/rust_locks"
        let build = try Harness.run(rustc, ["-O", "-o", program, "\(Harness.packageRoot)/tools/workloads/rust_locks.rs"])
        try #require(build.status == 0, "\(build.stderr)")
        let trace = "\(dir)/t.gtrace"
        let run = try Harness.gtrace(["record", "-o", trace, "--", program, "40", "1000", "4"])
        #expect(run.status == 0, "\(run.stderr)")
        let mutex = Self.values(run.stdout, line: "mutex")
        let rwlock = Self.values(run.stdout, line: "rwlock")
        let condvar = Self.values(run.stdout, line: "condvar")
        let report = try Harness.reportJSON(trace)
        let locks = Self.futexLocks(report)
        func words(_ name: String) -> [[String: Any]] {
            locks.filter { ($0["name"] as? String).map { $0.hasPrefix("rust_locks::\(name) ") || $0.hasPrefix("rust_locks::\(name)+") } ?? false }
        }
        func sum(_ words: [[String: Any]], _ key: String) -> Double {
            words.reduce(0) { $0 + Double($1[key] as? Int ?? 0) }
        }
        func futexSum(_ words: [[String: Any]], _ key: String) -> Int {
            words.reduce(0) { $0 + (($1["futex"] as? [String: Any])?[key] as? Int ?? 0) }
        }
        // Each primitive's futex words are named after its static.
        let counter = words("COUNTER"), table = words("TABLE"), signal = words("SIGNAL")
        #expect(counter.count == 1 && !table.isEmpty && signal.count == 1, "\(locks.map { $0["name"] ?? "" })")
        // The mutex: contended (the program saw try_lock fail) and every wait
        // inside a contended lock(): recorded wait time = the threads' own time in those calls.
        #expect((mutex["contended"] ?? 0) > 0 && futexSum(counter, "waits") > 0)
        for (name, recorded, own) in [("COUNTER", sum(counter, "waitTotalNanoseconds"), mutex["wait_ns"] ?? 0),
                                      ("TABLE", sum(table, "waitTotalNanoseconds"), rwlock["wait_ns"] ?? 0),
                                      ("SIGNAL", sum(signal, "waitTotalNanoseconds"), condvar["wait_ns"] ?? 0)] {
            #expect(own > 0 && abs(recorded - own) <= 0.05 * own, "\(name): recorded \(recorded) ns, threads' own clocks \(own) ns")
        }
        // Its waits are made in std (v0-mangled in recent releases, legacy-mangled in older ones), and the call site is demangled.
        let sites = counter.flatMap { $0["callSites"] as? [[String: Any]] ?? [] }.compactMap { $0["site"] as? String }
        #expect(sites.contains { $0.contains("lock_contended") } && !sites.contains { $0.hasPrefix("_R") }, "\(sites)")
        // Every woken mutex wait was woken by one of the mutex's wake calls.
        #expect(futexSum(counter, "woken") == futexSum(counter, "threadsWoken"))
        #expect(futexSum(counter, "wakers") >= 2)
        // It looks like a lock to the verdict (FutexStatistics.looksLikeALock): each
        // wake handed it to one thread, and its wakers also waited for it.
        #expect(futexSum(counter, "wakesOfSeveral") == 0 && futexSum(counter, "wakersThatWaited") >= 1)
        // Condvar: one wake call per notify_one, exactly; no more waits than wait() calls.
        #expect(Double(futexSum(signal, "wakeCalls")) == condvar["notifies"])
        #expect(Double(futexSum(signal, "waits")) <= condvar["waits"] ?? 0)
        // The report no longer says the program has no locks.
        let summary = report["summary"] as? [String: Any] ?? [:]
        #expect((summary["lockCount"] as? Int ?? 0) >= 3)
    }

    /// Threads blocked in a futex issued by their own `syscall` instruction (as
    /// Go does) are reported as waits gtrace cannot see, with the time the
    /// threads measured themselves; the same waits through libc are recorded
    /// and leave nothing unseen.
    @Test func waitsGtraceCannotSee() throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("raw_futex", in: dir)
        for mode in ["raw", "libc"] {
            let trace = "\(dir)/\(mode).gtrace"
            let run = try Harness.gtrace(["record", "-o", trace, "--", program, mode, "4", "100"])
            #expect(run.status == 0, "\(run.stderr)")
            let own = try #require(run.stdout.split(separator: "=").last.flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
            let report = try Harness.reportJSON(trace)
            let unseen = try #require(report["invisibleWaits"] as? [String: Any])
            let blocked = Double(unseen["blockedNanoseconds"] as? Int ?? -1)
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            let text = try Harness.gtrace(["report", "--details", trace]).stdout
            if mode == "raw" {
                // Unseen: the workers' own time in those waits, within 5%.
                #expect(abs(blocked - own) <= 0.05 * own, "unseen \(blocked) ns, workers' own clocks \(own) ns")
                #expect(verdict.contains("of thread time blocked in waits gtrace cannot see"), "\(verdict)")
                #expect(text.contains("of thread time blocked in waits gtrace cannot see"))
                #expect(Self.futexLocks(report).isEmpty)
            } else {
                #expect(blocked < 0.02 * own, "unseen \(blocked) ns though every wait was recorded")
                #expect(!verdict.contains("cannot see"), "\(verdict)")
                let word = try #require(Self.futexLocks(report).first)
                let recorded = Double(word["waitTotalNanoseconds"] as? Int ?? 0)
                #expect(abs(recorded - own) <= 0.05 * own, "recorded \(recorded) ns, workers' own clocks \(own) ns")
                // The word is an event (the main thread, which never waits on it, wakes
                // all three workers at once), not a lock: no sentence may say it serialises them.
                let futex = word["futex"] as? [String: Any] ?? [:]
                #expect((futex["wakesOfSeveral"] as? Int ?? 0) > 0 && futex["wakersThatWaited"] as? Int == 0, "\(futex)")
                #expect(!verdict.contains("serialises"), "\(verdict)")
                // Its waits (three quarters of the threads' time) are not left out of the verdict.
                #expect(verdict.contains("waiting for locks or futex words"), "\(verdict)")
            }
        }
    }

    /// Swift's Synchronization.Mutex (FUTEX_LOCK_PI / UNLOCK_PI through libc's
    /// syscall()): its contended waits are seen, on a word named after the global.
    @Test func swiftSynchronizationMutex() throws {
        let swiftc = try #require(Self.tool("swiftc", extra: ["/opt/swift/usr/bin/swiftc"]), "swiftc not found")
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = "\(dir)/swift_mutex"
        let build = try Harness.run(swiftc, ["-O", "-o", program, "\(Harness.packageRoot)/tools/workloads/swift_mutex.swift"])
        try #require(build.status == 0, "\(build.stderr)")
        let trace = "\(dir)/t.gtrace"
        let run = try Harness.gtrace(["record", "-o", trace, "--", program])
        #expect(run.status == 0 && run.stdout == "count 160\n", "\(run.stdout) \(run.stderr)")
        let locks = Self.futexLocks(try Harness.reportJSON(trace))
        let counter = try #require(Self.lock(locks, named: "counter"), "\(locks.map { $0["name"] ?? "" })")
        let futex = try #require(counter["futex"] as? [String: Any])
        // 4 threads × 40 holds of 1 ms: contended waits, each taking the PI lock (result 0).
        #expect((futex["waits"] as? Int ?? 0) > 0)
        #expect(futex["woken"] as? Int == futex["waits"] as? Int)
        #expect((futex["wakeCalls"] as? Int ?? 0) > 0 && (futex["wakers"] as? Int ?? 0) >= 2)
        #expect((counter["waitTotalNanoseconds"] as? Int ?? 0) > 10_000_000)
    }

    /// Java: 8 threads on one `synchronized` object. HotSpot parks the
    /// contended ones on per-thread condition variables; gtrace names the waits
    /// after the frame above the park (ObjectMonitor::EnterI) and groups them as
    /// JVM monitor waits, whose total matches the threads' own timing within 10%.
    @Test(arguments: ["synchronized", "reentrant"])
    func javaMonitorAndParkWaits(mode: String) throws {
        let javac = try #require(Self.tool("javac"), "javac not found (tools/setup installs default-jdk-headless)")
        let java = try #require(Self.tool("java"), "java not found")
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let build = try Harness.run(javac, ["-d", dir, "\(Harness.packageRoot)/tools/workloads/Monitors.java"])
        try #require(build.status == 0, "\(build.stderr)")
        let trace = "\(dir)/t.gtrace"
        let run = try Harness.gtrace(["record", "-o", trace, "--", java, "-XX:TieredStopAtLevel=1", "-cp", dir, "Monitors", "20", mode])
        #expect(run.status == 0, "\(run.stderr)")
        let own = try #require(Self.values("x " + run.stdout, line: "x")["entry_wait_ns"], "\(run.stdout)")
        #expect(run.stdout.hasPrefix("counter=160 "))
        let report = try Harness.reportJSON(trace)
        let jvm = try #require(report["jvmMonitors"] as? [String: Any])
        let entry = try #require(jvm[mode == "reentrant" ? "park" : "monitorEntry"] as? [String: Any])
        let recorded = Double(entry["waitNanoseconds"] as? Int ?? 0)
        #expect(abs(recorded - own) <= 0.10 * own, "JVM \(mode) waits \(recorded) ns, threads' own timing \(own) ns")
        #expect((entry["sites"] as? [String] ?? []).first?.hasPrefix(mode == "reentrant" ? "Unsafe_Park" : "ObjectMonitor::EnterI") == true, "\(entry)")
        #expect((entry["waits"] as? Int ?? 0) > 0)
        #expect((entry["threads"] as? Int ?? 0) >= 2, "\(entry)")
        // The verdict names what the threads queued in (its own wait figure: wait total ÷ wall).
        let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
        #expect(verdict.hasPrefix("Java threads waited for each other: ")
                && verdict.contains(mode == "reentrant" ? "parked in java.util.concurrent" : "contended synchronized block"), "\(verdict)")
        let text = try Harness.gtrace(["report", "--details", trace]).stdout
        #expect(text.contains(mode == "reentrant" ? "LockSupport.park" : "JVM monitor waits (synchronized)"))
    }
}
