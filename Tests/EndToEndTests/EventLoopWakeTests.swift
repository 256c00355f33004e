import Foundation
import Testing

/// An asyncio loop that hands hashing jobs to worker threads (`asyncio.to_thread`)
/// sleeps in `epoll_wait` until a worker writes to the loop's self-pipe, a
/// socketpair. Before, gtrace saw neither which descriptors the epoll_wait found
/// ready nor that the pair's two ends are one channel: the loop's 174 ms wait
/// was kept as recorded, and the verdict said "More cores would not help its
/// threads as recorded: the replay predicts 235 ms on 4 cores" for jobs that
/// run in parallel. The truth: recorded on one CPU, the replay's two-core
/// prediction must match the same command measured on two (whole command,
/// median of 3), and the loop's wait must not be a wait without a known waker.
@Suite(.serialized) struct EventLoopWakeTests {
    /// The command's whole wall time on CPUs 0 and 1, untraced, three runs (ns).
    static func wallsOnTwoCPUs(_ command: [String]) throws -> [Double] {
        var walls: [Double] = []
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            let run = try Harness.run("/usr/bin/taskset", ["-c", "0,1"] + command)
            walls.append(Double(DispatchTime.now().uptimeNanoseconds - start))
            #expect(run.status == 0, "\(run.stderr)")
        }
        return walls
    }

    @Test func anAsyncioLoopWokenByItsWorkersReplaysOnMoreCores() throws {
        guard SchedulingTests.perfAllowed, ProcessInfo.processInfo.activeProcessorCount >= 2,
              FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let command = ["/usr/bin/python3.11", "\(Harness.packageRoot)/tools/workloads/py_asyncio_threads.py", "4", "150"]
        try Remeasure.upTo(3, "asyncio loop") { timing in
            let trace = "\(dir)/t.data"
            let recorded = try Harness.run("/usr/bin/taskset", ["-c", "0", Harness.gtrace, "record", "-o", trace, "--"] + command)
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let p = ParallelismTests.parallelism(report)
            let unexplained = p["unexplainedWaits"] as? [[String: Any]] ?? []
            let loopWaits = unexplained.filter { ($0["what"] as? String ?? "").hasPrefix("epoll_wait") }
                .map { SchedulingTests.number($0["nanoseconds"]) }.reduce(0, +)
            #expect(loopWaits < 10e6, "\(unexplained)")
            let predicted = ParallelismTests.prediction(p, "as recorded", cores: 2)
            let measured = try Self.wallsOnTwoCPUs(command)
            let median = measured.sorted()[1]
            print("asyncio loop: 2 cores predicted \(predicted / 1e6) ms from a run on 1, measured \(measured.map { $0 / 1e6 }) ms")
            timing.expect(predicted > 0 && abs(predicted - median) <= 0.2 * median,
                          "2 cores predicted \(predicted / 1e6) ms from a run on 1, measured \(measured.map { $0 / 1e6 }) ms")
        }
    }

    /// An epoll set whose data are tokens, not fds (Rust's mio): gtrace cannot tell
    /// which descriptor woke the wait and keeps it as recorded, so the replay cannot
    /// shorten it on more cores. Recorded on one CPU, two workers that the main
    /// thread waits for take half the time on two. The verdict said "more cores would not
    /// help" and named the kept wait; it now says whether more would help is not known.
    @Test func aWaitWithAnUnseenWakerIsNamedWhereMoreCoresWouldNotHelp() throws {
        guard SchedulingTests.perfAllowed, ProcessInfo.processInfo.activeProcessorCount >= 2,
              FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let command = [try Harness.buildWorkload("epoll_token_wait", in: dir), "2", "150"]
        try Remeasure.upTo(3, "epoll tokens") { timing in
            let trace = "\(dir)/t.data"
            let recorded = try Harness.run("/usr/bin/taskset", ["-c", "0", Harness.gtrace, "record", "-o", trace, "--"] + command)
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let report = try Harness.reportJSON(trace)
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            let predicted = ParallelismTests.prediction(ParallelismTests.parallelism(report), "as recorded", cores: 2)
            let measured = try Self.wallsOnTwoCPUs(command)
            // The premise: two cores do help, and the replay cannot see it.
            timing.expect(predicted > 1.5 * measured.sorted()[1], "2 cores predicted \(predicted / 1e6) ms, measured \(measured.map { $0 / 1e6 }) ms")
            // So it does not say more cores would not help, and it names the kept wait.
            let line = verdict.split(separator: "\n").first { $0.hasPrefix("With the waits it did not see the end of as they were") } ?? ""
            #expect(line.contains("waits whose waker gtrace did not see") && line.contains("epoll_wait"), "\(verdict)")
            #expect(!verdict.contains("more cores would not help") && !verdict.contains("More cores would not help")
                    && verdict.contains("whether more cores would help is not known"), "\(verdict)")
        }
    }

    /// Every eventfd (and epoll fd, timerfd, signalfd) of the machine is one
    /// anonymous inode, so a wait on one eventfd could be tied to a write on
    /// any other; and Python's `os.eventfd_write` writes through glibc's
    /// internal write, which no wrapper saw. Each of two threads polls its own
    /// eventfd: each wait must be ended by the write on its own, and the two
    /// must be two objects.
    @Test func twoEventfdsAreTwoObjectsAndTheirWritesEndTheirWaits() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data"
        let recorded = try Harness.gtrace(["record", "-o", trace, "--", "/usr/bin/python3.11",
                                           "\(Harness.packageRoot)/tools/workloads/py_eventfd_waiters.py"])
        try #require(recorded.status == 0, "\(recorded.stderr)")
        let lines = try Harness.dump(trace)
        func object(_ line: String) -> String? { line.split(separator: " ").first { $0.hasPrefix("object=") }.map(String.init) }
        let ready = lines.filter { $0.contains(" io-ready ") }.compactMap(object)
        let written = lines.filter { $0.contains(" io-write ") }.compactMap(object)
        #expect(ready.count == 2 && Set(ready).count == 2, "\(lines.filter { $0.contains(" io-") })")
        #expect(Set(ready).isSubset(of: Set(written)), "\(lines.filter { $0.contains(" io-") })")
        let p = ParallelismTests.parallelism(try Harness.reportJSON(trace))
        let polls = (p["unexplainedWaits"] as? [[String: Any]] ?? []).filter { ($0["what"] as? String ?? "").hasPrefix("poll") }
        #expect(polls.isEmpty, "\(polls)")
    }
}
