import Foundation
import Testing

/// SIGTERM to `gtrace record` after the command has exited goes to what the
/// command left running, not to its dead pid (RELIABILITY.md item 9).
@Suite(.serialized) struct SignalForwardingTests {
    typealias S = SchedulingTests

    /// `sh -c 'sleep 20 & exit 3'` under record: once sh has exited, a SIGTERM to
    /// record ends the background sleep, record exits with sh's status at once
    /// (before the fix it waited the whole 20 s), and the report shows the sleep
    /// killed by SIGTERM.
    @Test func termAfterTheCommandExitedReachesWhatItLeft() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = "\(dir)/t.data", pidFile = "\(dir)/sleep.pid"
        let script = """
        "$1" record -o "$2" -- /bin/sh -c 'sleep 20 & echo $! > "$0"; exit 3' "$3" 2>/dev/null &
        g=$!
        i=0; while [ ! -s "$3" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
        sleep 0.5
        start=$(date +%s%N)
        kill -TERM $g
        wait $g; s=$?
        end=$(date +%s%N)
        if kill -0 "$(cat "$3")" 2>/dev/null; then alive=yes; else alive=no; fi
        echo "$s $(( (end - start) / 1000000 )) $alive"
        """
        let result = try Harness.run("/bin/bash", ["-c", script, "bash", Harness.gtrace, trace, pidFile])
        let fields = result.stdout.split(whereSeparator: \.isWhitespace)
        #expect(fields.count == 3, "\(result.stdout) \(result.stderr)")
        guard fields.count == 3 else { return }
        #expect(fields[0] == "3", "record exits with the command's status: \(result.stdout)")
        #expect((Double(fields[1]) ?? 1e9) < 10_000, "record ended \(fields[1]) ms after the SIGTERM (the sleep lasts 20 s)")
        #expect(fields[2] == "no", "the background sleep is gone")
        let processes = S.processes(try Harness.reportJSON(trace))
        let sleep = processes.first { ($0["command"] as? String ?? "").hasPrefix("sleep") }
        #expect(sleep?["end"] as? String == "killed by SIGTERM", "\(String(describing: sleep))")
    }
}
