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
