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
@Suite struct FuzzFindingsTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzFindings").path

    @Test(arguments: ["string-length-past-end", "times-near-2-62-overflow", "python-midpoint-overflow"])
    func findingRunsCleanly(name: String) throws {
        let path = "\(Self.directory)/\(name).data"
        #expect(FileManager.default.fileExists(atPath: path))
        let (outcome, message) = TraceFuzzer.run(path: path)
        // A clean error names the byte; a report is fine too. Reaching here means no trap.
        if outcome == .error { #expect(message.contains("byte"), "\(message)") }
        print("\(name): \(outcome.rawValue) \(message.prefix(200))")
    }
}
