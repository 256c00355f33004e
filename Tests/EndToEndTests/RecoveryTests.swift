import Foundation
import Testing

/// A recorder killed with SIGKILL: the tree runs on, recording into the
/// session; `gtrace recover` lists the session, merges it into a trace that
/// holds what the tree did after the recorder died, and removes it
/// (RELIABILITY.md item 3).
@Suite(.serialized) struct RecoveryTests {
    typealias S = SchedulingTests

    @Test func aKilledRecordersSessionIsListedMergedAndRemoved() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("lock_pairs", in: dir)
        // The command sleeps 1 s, so the 2 × 1000 lock pairs all happen after the recorder's death.
        let script = """
        "$1" record -o "$2/never.data" -- /bin/sh -c 'sleep 1; "$0" 2 1000; touch "$1"' "$3" "$2/done" 2>/dev/null &
        g=$!
        sleep 0.4
        kill -KILL $g
        wait $g 2>/dev/null
        i=0; while [ ! -e "$2/done" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
        "$1" recover
        """
        let listed = try Harness.run("/bin/bash", ["-c", script, "bash", Harness.gtrace, dir, program])
        let line = try #require(listed.stdout.split(separator: "\n").first { $0.contains(program) }, "listing: \(listed.stdout)")
        #expect(line.contains("died") && line.contains("ended"), "\(line)")
        let session = String(line.split(separator: " ").first ?? "")
        #expect(FileManager.default.fileExists(atPath: session + "/recorder.json"))
        let trace = "\(dir)/recovered.data"
        let recovered = try Harness.gtrace(["recover", session, "-o", trace])
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(!FileManager.default.fileExists(atPath: session), "the merged session is removed")
        let report = try Harness.reportJSON(trace)
        let acquisitions = (report["locks"] as? [[String: Any]] ?? []).reduce(0.0) { $0 + S.number($1["acquisitions"]) }
        #expect(acquisitions == 2000, "every lock pair made after the recorder died: \(acquisitions)")
        let warnings = (report["warnings"] as? [String] ?? []).joined(separator: " | ")
        #expect(warnings.contains("recovered by gtrace recover"), "\(warnings)")
        #expect(!(try Harness.gtrace(["recover"]).stdout.contains(session)), "no longer listed")
        // Nothing to recover there any more: one line, non-zero status.
        let again = try Harness.gtrace(["recover", session, "-o", "\(dir)/again.data"])
        #expect(again.status != 0 && again.stderr.contains(session), "\(again.stderr)")
    }
}

extension RecoveryTests {
    /// Recovering while the command still runs cuts the trace there and keeps the
    /// session, which a later recovery merges whole. (All in one script: the harness
    /// waits for every holder of its pipes, the orphaned tree included.)
    @Test func aSessionWhoseCommandStillRunsIsKept() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let program = try Harness.buildWorkload("lock_pairs", in: dir)
        let script = """
        "$1" record -o "$2/never.data" -- /bin/sh -c 'sleep 1.5; "$0" 2 1000; touch "$1"' "$3" "$2/done" >/dev/null 2>&1 &
        g=$!
        sleep 0.4
        kill -KILL $g
        wait $g 2>/dev/null
        "$1" recover > "$2/list.txt"
        s=$(grep -F "$3" "$2/list.txt" | cut -d' ' -f1)
        "$1" recover "$s" -o "$2/early.data" 2> "$2/early.err"; echo $? > "$2/early.status"
        if [ -d "$s" ]; then echo yes > "$2/kept"; fi
        i=0; while [ ! -e "$2/done" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
        "$1" recover "$s" -o "$2/late.data" 2> "$2/late.err"; echo $? > "$2/late.status"
        if [ ! -e "$s" ]; then echo yes > "$2/removed"; fi
        """
        _ = try Harness.run("/bin/bash", ["-c", script, "bash", Harness.gtrace, dir, program])
        func text(_ name: String) -> String { (try? String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8)) ?? "" }
        #expect(text("list.txt").split(separator: "\n").contains { $0.contains(program) && $0.contains("still running") }, "\(text("list.txt"))")
        #expect(text("early.status").hasPrefix("0") && text("early.err").contains("still runs"), "\(text("early.err"))")
        #expect(text("kept").hasPrefix("yes"), "the session is kept while the command runs")
        #expect(text("late.status").hasPrefix("0"), "\(text("late.err"))")
        #expect(text("removed").hasPrefix("yes"), "removed once the whole run is merged")
        let report = try Harness.reportJSON("\(dir)/late.data")
        let acquisitions = (report["locks"] as? [[String: Any]] ?? []).reduce(0.0) { $0 + S.number($1["acquisitions"]) }
        #expect(acquisitions == 2000, "\(acquisitions)")
    }
}
