/// Minimal JSON text helpers for the streaming writers.
enum JSONText {
    /// `s` as a JSON string literal (with quotes), escaping what JSON requires
    /// plus `<`, `>` and `&` so the text is also safe inside HTML.
    static func string(_ s: String) -> String { String(decoding: encoded(s), as: UTF8.self) }

    /// `string(s)` as UTF-8 bytes. Works on the bytes: exports escape a name at
    /// every event, and Swift's per-scalar appends dominated their profile.
    static func encoded(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        out.append(0x22)
        var s = s
        s.withUTF8 { bytes in
            var i = 0
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                switch b {
                case 0x22: out += [0x5C, 0x22]  // \"
                case 0x5C: out += [0x5C, 0x5C]  // \\
                case 0x0A: out += [0x5C, 0x6E]  // \n
                case 0x0D: out += [0x5C, 0x72]  // \r
                case 0x09: out += [0x5C, 0x74]  // \t
                case 0x3C: out += Array("\\u003c".utf8)
                case 0x3E: out += Array("\\u003e".utf8)
                case 0x26: out += Array("\\u0026".utf8)
                case 0xE2 where i + 1 < bytes.count && bytes[i] == 0x80 && (bytes[i + 1] == 0xA8 || bytes[i + 1] == 0xA9):
                    // U+2028 and U+2029 end a line in JavaScript.
                    out += Array((bytes[i + 1] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                    i += 2
                case 0..<0x20:
                    out += Array("\\u00".utf8) + [hexDigit(b >> 4), hexDigit(b & 0xF)]
                default:
                    out.append(b)
                }
            }
        }
        out.append(0x22)
        return out
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x61 + v - 10 }

    /// Nanoseconds as microseconds with three decimals ("12.345").
    static func microseconds(_ ns: UInt64) -> String {
        let frac = String(ns % 1000)
        return "\(ns / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }
}
