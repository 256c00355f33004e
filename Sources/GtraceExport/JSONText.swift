/// Minimal JSON text helpers for the streaming writers.
enum JSONText {
    /// `s` as a JSON string literal (with quotes), escaping what JSON requires
    /// plus `<`, `>` and `&` so the text is also safe inside HTML.
    static func string(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            default:
                if scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Nanoseconds as microseconds with three decimals ("12.345").
    static func microseconds(_ ns: UInt64) -> String {
        let frac = String(ns % 1000)
        return "\(ns / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }
}
