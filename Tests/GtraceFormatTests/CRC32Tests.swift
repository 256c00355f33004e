import CGtraceFormat
import Testing

/// The C CRC-32 (slicing-by-8) against the standard check value and a
/// byte-at-a-time reference, at every length and alignment up to 70 bytes and
/// when continued across calls.
@Suite struct CRC32Tests {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func crc(_ bytes: ArraySlice<UInt8>, seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { gtrace_crc32(seed, $0.baseAddress, $0.count) }
    }

    @Test func checkValueAndEveryLengthAndAlignment() {
        #expect(Self.crc(ArraySlice(Array("123456789".utf8))) == 0xCBF4_3926)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<80).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var mismatches: [String] = []
        for start in 0..<8 {
            for length in 0...70 where start + length <= bytes.count {
                let slice = bytes[start..<start + length]
                if Self.crc(slice) != Self.reference(slice) { mismatches.append("\(start)+\(length)") }
                let split = length / 3
                let continued = Self.crc(slice.dropFirst(split), seed: Self.crc(slice.prefix(split)))
                if continued != Self.reference(slice) { mismatches.append("\(start)+\(length) split") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}
