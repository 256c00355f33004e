import Foundation
import GtraceAnalysis

/// `gtrace report --json`: the analysis as JSON (keys sorted, stable).
public enum JSONReport {
    public static func render(_ analyses: [TraceAnalysis]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = analyses.count == 1 ? try encoder.encode(analyses[0]) : try encoder.encode(analyses)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
