import Foundation
import GtraceAnalysis

/// `gtrace report --json`: the analysis as JSON (keys sorted, stable).
public enum JSONReport {
    /// Several traces: the comparison table, then each run's analysis.
    struct Runs: Encodable {
        var comparison: Comparison
        var runs: [TraceAnalysis]
    }

    public static func render(_ analyses: [TraceAnalysis]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = analyses.count == 1 ? try encoder.encode(analyses[0]) : try encoder.encode(Runs(comparison: Comparison(analyses), runs: analyses))
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
