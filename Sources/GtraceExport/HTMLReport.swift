import Foundation
import GtraceAnalysis

/// `gtrace report --html OUT.html`: one self-contained page (no network:
/// its Content-Security-Policy forbids any fetch) drawn in the browser from
/// the analysis, which is embedded as JSON. Every string from the trace
/// reaches the page only as JSON data and is put into the document with
/// `textContent`, never parsed as HTML.
public enum HTMLReport {
    public static func render(_ analyses: [TraceAnalysis]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let comparison = analyses.count > 1 ? Comparison(analyses) : nil
        let payload = Payload(runs: analyses, comparison: comparison)
        let json = String(decoding: try encoder.encode(payload), as: UTF8.self)
        return HTMLTemplate.page
            .replacingOccurrences(of: "/*@@SECTIONS@@*/", with: HTMLSections.script)
            .replacingOccurrences(of: "@@DATA@@", with: scriptSafe(json))
    }

    struct Payload: Encodable {
        var runs: [TraceAnalysis]
        var comparison: Comparison?
    }

    /// JSON that cannot end its <script> element or open another tag: `<`, `>`
    /// and `&` become \u escapes (only inside strings can they occur in JSON).
    static func scriptSafe(_ json: String) -> String {
        var out = ""
        out.reserveCapacity(json.utf8.count)
        for scalar in json.unicodeScalars {
            switch scalar {
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
