import Foundation

/// Number formatting shared by the text outputs.
public enum Formatting {
    /// A duration with a unit chosen for 3–4 significant digits: "812 ns", "5.03 ms", "1.204 s".
    public static func duration(_ ns: UInt64) -> String {
        let v = Double(ns)
        switch ns {
        case ..<1_000: return "\(ns) ns"
        case ..<1_000_000: return String(format: "%.1f µs", v / 1e3)
        case ..<1_000_000_000: return String(format: "%.2f ms", v / 1e6)
        default: return String(format: "%.3f s", v / 1e9)
        }
    }

    public static func percent(_ ratio: Double) -> String {
        String(format: "%.1f%%", ratio * 100)
    }

    public static func bytes(_ n: Int) -> String {
        switch n {
        case ..<10_000: return "\(n) B"
        case ..<10_000_000: return String(format: "%.1f KB", Double(n) / 1e3)
        default: return String(format: "%.1f MB", Double(n) / 1e6)
        }
    }
}

/// A plain-text table: a header row, then rows; first column left-aligned, others right.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    var leftAligned: Set<Int> = [0]

    func render(indent: String = "  ") -> [String] {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { i, cell -> String in
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                return leftAligned.contains(i) ? cell + pad : pad + cell
            }
            return indent + padded.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        return [line(header)] + rows.map(line)
    }
}

/// Text from a trace (command lines, thread, lock and call-site names) made
/// safe for a terminal: C0 and C1 control characters, DEL and the bidi
/// overrides are shown as `\xNN` / `\uNNNN`, so a trace cannot move the
/// cursor, set the title, write the clipboard (OSC 52) or reorder a line.
public enum TerminalText {
    static func isUnsafe(_ value: UInt32) -> Bool {
        value < 0x20 || (0x7f...0x9f).contains(value) || (0x202a...0x202e).contains(value) || (0x2066...0x2069).contains(value)
    }

    /// One field: every control character escaped, newlines and tabs included.
    public static func field(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { isUnsafe($0.value) }) else { return s }
        var out = ""
        for scalar in s.unicodeScalars {
            if isUnsafe(scalar.value) {
                let hex = String(scalar.value, radix: 16)
                out += scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" : "") + hex : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A whole report: every control character but the line breaks escaped (the last line of defence).
    public static func report(_ s: String) -> String {
        s.split(separator: "\n", omittingEmptySubsequences: false).map { field(String($0)) }.joined(separator: "\n")
    }
}
