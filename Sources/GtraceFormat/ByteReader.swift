/// Reads little-endian integers, LEB128 varints and strings from a byte buffer,
/// throwing (never trapping) when the buffer ends early.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }
    var isAtEnd: Bool { position >= bytes.count }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw DecodeError(reason: "record ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    /// An unsigned LEB128 varint of at most 10 bytes.
    @inline(__always)
    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else { throw DecodeError(reason: "varint runs past the end of its record") }
            let b = bytes[position]
            position += 1
            if shift == 63 && b > 1 { throw DecodeError(reason: "varint overflows 64 bits") }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw DecodeError(reason: "varint longer than 10 bytes") }
        }
    }

    /// A varint that must fit in `Int` and be at most `limit`.
    /// The largest time or duration a trace may hold: 2^62 ns (146 years).
    /// Anything above is impossible, and refusing it keeps sums of a few such values inside UInt64.
    static let maxNanoseconds: UInt64 = 1 << 62

    /// A time or duration in ns (stored +1 when `optional`, 0 meaning none), at most `maxNanoseconds`.
    mutating func nanoseconds(_ what: String, optional: Bool = false) throws -> UInt64 {
        let value = try varint()
        guard value <= Self.maxNanoseconds + (optional ? 1 : 0) else {
            throw DecodeError(reason: "\(what) \(value) ns is impossible (above 2^62)")
        }
        return value
    }

    mutating func count(limit: Int, _ what: String) throws -> Int {
        let value = try varint()
        guard limit >= 0, value <= UInt64(limit) else { throw DecodeError(reason: "\(what) \(value) exceeds \(limit)") }
        return Int(value)
    }

    mutating func uint32LE() throws -> UInt32 {
        guard remaining >= 4 else { throw DecodeError(reason: "record ends early") }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return value
    }

    mutating func uint16LE() throws -> UInt16 {
        guard remaining >= 2 else { throw DecodeError(reason: "record ends early") }
        let value = UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
        position += 2
        return value
    }

    /// A varint length followed by that many bytes of UTF-8 (invalid sequences repaired).
    mutating func string() throws -> String {
        // The limit is what remains after the length itself: `count(limit: remaining, …)`
        // would take `remaining` before the varint is read, and let a length run past the
        // end by the varint's own bytes (a trap, found by tools/fuzz).
        let value = try varint()
        guard value <= UInt64(max(remaining, 0)) else { throw DecodeError(reason: "string length \(value) exceeds \(remaining)") }
        let length = Int(value)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)])
        position += length
        return String(decoding: slice, as: UTF8.self)
    }

    /// `n` raw bytes.
    mutating func skip(_ n: Int) throws {
        guard n >= 0, remaining >= n else { throw DecodeError(reason: "record ends early") }
        position += n
    }
}
