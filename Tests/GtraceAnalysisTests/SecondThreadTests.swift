import Foundation
import Testing
@testable import GtraceAnalysis
@testable import GtraceFormat

/// The report's pass on two threads (decoding, scheduling and replay on the
/// second) must give exactly the analysis of the one-thread pass: compared as
/// JSON on the sample traces, whole and cut short (the warnings come from the
/// second thread then).
@Suite struct SecondThreadTests {
    static let samples = ["seed1-threads", "seed3-processes", "seed6-threads-3.14", "seed6-threads-3.15", "seed7-subprocess"]

    static func json(_ analysis: TraceAnalysis) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(analysis), as: UTF8.self)
    }

    static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("traces/\(name).data").path
    }

    @Test(arguments: samples) func sameAnalysisOnOneOrTwoThreads(name: String) throws {
        let file = try TraceFile(path: Self.path(name))
        let one = Analyzer.analyze(file, secondThread: false)
        let two = Analyzer.analyze(file, secondThread: true)
        #expect(one.summary.eventCount > 1000)
        #expect(try Self.json(one) == Self.json(two))
    }

    @Test(arguments: samples) func sameWarningsForATraceCutShort(name: String) throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: Self.path(name)))
        let path = NSTemporaryDirectory() + "gtrace-cut-\(UUID().uuidString).data"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try whole.prefix(whole.count * 3 / 4).write(to: URL(fileURLWithPath: path))
        let file = try TraceFile(path: path)
        let one = Analyzer.analyze(file, secondThread: false)
        let two = Analyzer.analyze(file, secondThread: true)
        #expect(one.warnings.contains { $0.contains("truncated") })
        #expect(try Self.json(one) == Self.json(two))
    }
}
