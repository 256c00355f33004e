import Testing
@testable import GtraceFormat

/// The reader throws, never traps, on lengths that run past the end.
@Suite struct ByteReaderTests {
    /// A string length equal to the bytes left *before* its own varint: one byte too
    /// long once the varint is read. It trapped (tools/fuzz, seed 1000: a PYTHON record's
    /// file name); now a clean error.
    @Test func aStringLengthCountingItsOwnVarintIsAnError() {
        let bytes: [UInt8] = [3, 0x61, 0x62]  // length 3, then only 2 bytes
        bytes.withUnsafeBytes { buffer in
            var reader = ByteReader(buffer)
            #expect(throws: DecodeError.self) { _ = try reader.string() }
        }
        let exact: [UInt8] = [2, 0x61, 0x62]
        exact.withUnsafeBytes { buffer in
            var reader = ByteReader(buffer)
            #expect((try? reader.string()) == "ab")
            #expect(reader.isAtEnd)
        }
    }
}
