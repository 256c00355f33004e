import Foundation
import Testing

/// A recording whose report is checked for what the replay predicts. The verdict's
/// predictions (and the sentences that come with them) need the replay to fit the run,
/// which a stall of this shared VM can spoil: once in some thirty CI runs (ci42, 3.11.7)
/// a shared-counter recording's main thread was 150 ms off the CPU outside any call gtrace
/// records, the process used 230 ms of CPU time against 375 ms in other runs, and the
/// replay came out 39% too long. Then the report rightly predicts nothing; the recording
/// is made again, up to three times.
enum FittingRecording {
    /// Runs `record` (a `gtrace record` that writes `trace`) until the replay fits; returns
    /// the text report of the last recording.
    static func report(_ name: String, _ trace: String, _ record: () throws -> Harness.Result) throws -> String {
        try Remeasure.upTo(3, name) { timing in
            let recorded = try record()
            #expect(recorded.status == 0, "\(name): \(recorded.stderr)")
            let fit = ParallelismTests.parallelism(try Harness.reportJSON(trace))["replayFit"] as? [String: Any] ?? [:]
            timing.expect(fit["fits"] as? Bool == true, "\(name): the replay does not fit: \(fit)")
            return try Harness.gtrace(["report", trace]).stdout
        }
    }
}
