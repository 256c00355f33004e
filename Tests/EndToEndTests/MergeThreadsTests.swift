import Foundation
import Testing

/// The merge of a large session uses a second thread: two converters over two
/// halves of the threads, or block encoding beside the conversion when one
/// thread holds most records. Either way the trace must be the same bytes as
/// the one-thread merge (GTRACE_MERGE_THREADS=1) of the same session: kept by
/// killing the recorder once the command's work is done, merged twice with
/// `gtrace recover`.
@Suite(.serialized) struct MergeThreadsTests {
    /// Records `command`, keeps its session, merges it one way and the other:
    /// the two traces' bytes, and the event count of the first.
    static func mergeBothWays(_ command: [String], in dir: String) throws -> (one: Data, two: Data, events: Int) {
        let script = """
        g="$1"; d="$2"; shift 2
        "$g" record -o "$d/never.data" -- /bin/sh -c '"$@" > /dev/null; touch "$0"; sleep 37' "$d/done" "$@" > /dev/null 2>&1 &
        r=$!
        i=0; while [ ! -e "$d/done" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
        sleep 0.3
        kill -KILL $r; wait $r 2>/dev/null
        s=$("$g" recover | grep -F "$d/done" | cut -d' ' -f1)
        pkill -f "^sleep 37$" || true
        cp -a "$s" "$s.copy"
        GTRACE_MERGE_THREADS=1 "$g" recover "$s" -o "$d/one.data" 2> "$d/one.err"
        mv "$s.copy" "$s"
        "$g" recover "$s" -o "$d/two.data" 2> "$d/two.err"
        """
        let run = try Harness.run("/bin/bash", ["-c", script, "bash", Harness.gtrace, dir] + command)
        let one = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/one.data"))
        let two = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/two.data"))
        let summary = (try? String(contentsOfFile: "\(dir)/one.err", encoding: .utf8)) ?? ""
        let events = summary.split(separator: " ").firstIndex(of: "events,").flatMap { i in
            Int(summary.split(separator: " ")[i - 1])
        } ?? 0
        #expect(run.status == 0 || !one.isEmpty, "\(run.stderr)")
        return (one, two, events)
    }

    /// Merges `command`'s session both ways (the C workload `lock_pairs` built
    /// first when `command` starts with it) and compares the traces.
    static func check(_ command: [String], atLeast events: Int) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var command = command
        if command.first == "lock_pairs" { command[0] = try Harness.buildWorkload("lock_pairs", in: dir) }
        let merged = try mergeBothWays(command, in: dir)
        #expect(merged.events >= events, "\(merged.events) events")
        // A Bool, not `one == two` inside #expect: its diff of two traces of megabytes would take many minutes.
        let same = merged.one == merged.two
        #expect(same, "one thread: \(merged.one.count) bytes, two: \(merged.two.count) bytes")
    }

    /// Two converters, one per half of the threads.
    @Test func twoThreadsOfEqualSizeMergeAsOnOneThread() throws {
        try Self.check(["lock_pairs", "2", "150000"], atLeast: 600_000)
    }

    /// One thread holds the records: the encoder runs beside the conversion.
    @Test func oneBusyThreadMergesAsOnOneThread() throws {
        try Self.check(["lock_pairs", "1", "300000"], atLeast: 600_000)
    }

    /// Processes started by a shell: the scan's two runs of threads cross processes.
    @Test func processesMergeAsOnOneThread() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pairs = try Harness.buildWorkload("lock_pairs", in: dir)
        let merged = try Self.mergeBothWays(["/bin/sh", "-c", "\"$0\" 2 40000 & \"$0\" 1 80000 & \"$0\" 3 30000; wait", pairs], in: dir)
        #expect(merged.events >= 500_000, "\(merged.events) events")
        let same = merged.one == merged.two
        #expect(same, "one thread: \(merged.one.count) bytes, two: \(merged.two.count) bytes")
    }

    /// Python threads: GIL events, Python stacks, queue.Queue's locks named by their lines.
    @Test func pythonThreadsMergeAsOnOneThread() throws {
        try Self.check(["/usr/bin/python3.11", "\(Harness.packageRoot)/tools/workloads/py_queue.py", "2", "2", "40000"], atLeast: 300_000)
    }
}
