import Foundation
import Testing

/// The inputs `tools/fuzz` found crashing (seed 1000, session 3), run through the
/// reader, the analysis and every writer in every `swift test` (the fuzz suite itself
/// is gated): each must give a clean outcome, never a trap.
///   string-length-past-end: a PYTHON record's string length counted its own varint
///     (ByteReader.string trapped);
///   times-near-2-62-overflow: hold times near 2^62 ns overflowed a product in the
///     serialisation tracker and in the verdict's GIL rule;
///   python-midpoint-overflow: the midpoint of two Python location times overflowed.
/// And from seeds 1000–1002 of session 4 (a release build):
///   handoff-latency-overflow: the sum of GIL hand-off latencies per pair of functions;
///   foreign-load-overflow: the foreign-load tracker's sums (and a replay of its
///     thousands of threads that takes ~50 s in a debug build: these inputs are
///     replayed only up to 20,000 operations here; none of the traps was in the replay);
///   invisible-waits-overflow: the per-process sums of waits gtrace cannot see;
///   python-self-time-overflow (seed 2001): a function's GIL hold time summed past 2^64.
/// And from the small seeds of session 6 (tools/fuzz --small-seeds, seeds 100000–300002):
///   on-cpu-switch-out-before-in: a thread's switch-out before its switch-in (on-CPU time);
///   replay-off-cpu-delay-overflow: the replay's off-CPU delay plus its end time;
///   timeline-hold-overflow: a thread-timeline column's lock-hold sum;
///   lock-wait-total-overflow: a lock's total wait time.
@Suite struct FuzzFindingsTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzFindings").path

    @Test(arguments: ["string-length-past-end", "times-near-2-62-overflow", "python-midpoint-overflow",
                      "handoff-latency-overflow", "foreign-load-overflow", "invisible-waits-overflow",
                      "python-self-time-overflow", "on-cpu-switch-out-before-in", "replay-off-cpu-delay-overflow",
                      "timeline-hold-overflow", "lock-wait-total-overflow"])
    func findingRunsCleanly(name: String) throws {
        let path = "\(Self.directory)/\(name).data"
        #expect(FileManager.default.fileExists(atPath: path))
        let (outcome, message) = TraceFuzzer.run(path: path, replayOperations: 20_000)
        // A clean error names the byte; a report is fine too. Reaching here means no trap.
        if outcome == .error { #expect(message.contains("byte"), "\(message)") }
        print("\(name): \(outcome.rawValue) \(message.prefix(200))")
    }
}
