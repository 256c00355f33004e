import Foundation
import Testing
@testable import GtraceFormat

/// Damaged files give a clear error or their complete records plus a warning; never a crash.
@Suite struct CorruptionTests {
    @Test func truncationAtEveryOffset() throws {
        let path = try writeTemporaryTrace()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let (allEvents, _) = readAll(try TraceFile(path: path))
        let cut = path + ".cut"
        defer { try? FileManager.default.removeItem(atPath: cut) }
        var errors = 0, partial = 0
        for length in 0..<original.count {
            try Data(original.prefix(length)).write(to: URL(fileURLWithPath: cut))
            do {
                let file = try TraceFile(path: cut)
                let (events, warnings) = readAll(file)
                // Complete records only: every event read is one of the originals, in order.
                #expect(warnings.count == 1, "length \(length)")
                #expect(warnings.first?.contains("truncated at byte") == true, "length \(length)")
                #expect(isSubsequence(events, of: allEvents), "length \(length)")
                #expect(events.count <= allEvents.count, "length \(length)")
                if length < original.count / 2 { #expect(events.count < allEvents.count, "length \(length)") }
                partial += 1
            } catch let error as TraceError {
                #expect(!error.description.isEmpty)
                #expect(error.description.contains(cut))
                errors += 1
            }
        }
        #expect(errors > 0)
        #expect(partial > 0)
    }

    @Test func flippedBytesInHeaderAndTablesAreErrors() throws {
        let path = try writeTemporaryTrace()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let tablesEnd = try TraceFile(path: path).eventsOffset
        let damaged = path + ".flip"
        defer { try? FileManager.default.removeItem(atPath: damaged) }
        for offset in 0..<tablesEnd {
            for mask: UInt8 in [0x01, 0x80, 0xff] {
                var bytes = original
                bytes[offset] ^= mask
                try Data(bytes).write(to: URL(fileURLWithPath: damaged))
                #expect(throws: TraceError.self, "offset \(offset) mask \(mask)") { _ = try TraceFile(path: damaged) }
            }
        }
    }

    @Test func flippedBytesInEventsGiveCompleteRecordsAndAWarning() throws {
        let path = try writeTemporaryTrace()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let (allEvents, _) = readAll(try TraceFile(path: path))
        let tablesEnd = try TraceFile(path: path).eventsOffset
        let damaged = path + ".flip"
        defer { try? FileManager.default.removeItem(atPath: damaged) }
        for offset in tablesEnd..<original.count {
            var bytes = original
            bytes[offset] ^= 0x5a
            try Data(bytes).write(to: URL(fileURLWithPath: damaged))
            do {
                let file = try TraceFile(path: damaged)
                let (events, warnings) = readAll(file)
                #expect(!warnings.isEmpty, "offset \(offset)")
                #expect(warnings.allSatisfy { $0.contains("byte ") }, "offset \(offset)")
                #expect(isSubsequence(events, of: allEvents), "offset \(offset)")
            } catch let error as TraceError {
                // A damaged kind byte makes the first event record look like a broken table.
                #expect(error.description.contains("at byte \(tablesEnd)"), "offset \(offset): \(error)")
            }
        }
    }

    @Test func foreignAndEmptyFilesAreClearErrors() throws {
        let path = NSTemporaryDirectory() + "gtrace-foreign-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("hello, world\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: TraceError.notATrace(path: path)) { _ = try TraceFile(path: path) }
        try Data().write(to: URL(fileURLWithPath: path))
        #expect(throws: TraceError.notATrace(path: path)) { _ = try TraceFile(path: path) }
        #expect(throws: TraceError.self) { _ = try TraceFile(path: path + ".missing") }
    }

    @Test func futureVersionIsRejectedByName() throws {
        let path = try writeTemporaryTrace()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[8] = 2
        let crc = bytes.withUnsafeBytes { gtrace_crc32(0, $0.baseAddress, 12) }
        for i in 0..<4 { bytes[12 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: TraceError.unsupportedVersion(path: path, version: 2)) { _ = try TraceFile(path: path) }
    }
}

func isSubsequence(_ part: [TraceEvent], of whole: [TraceEvent]) -> Bool {
    var i = whole.startIndex
    for e in part {
        guard let found = whole[i...].firstIndex(of: e) else { return false }
        i = found + 1
    }
    return true
}

import CGtraceFormat
