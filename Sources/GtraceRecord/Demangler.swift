import CGtraceSystem
import Foundation

/// Readable names for mangled symbols: C++ and legacy Rust through libstdc++'s
/// demangler (Rust's trailing `::h<hash>` dropped), Rust v0 (`_R…`) with
/// `RustV0Demangler`, Swift through
/// `swift-demangle` when it is on the PATH. Anything else is left as it is.
struct Demangler {
    private var cache: [String: String] = [:]
    private lazy var swiftDemangle: String? = Self.findOnPath("swift-demangle")

    mutating func demangle(_ name: String) -> String {
        if let cached = cache[name] { return cached }
        var result = name
        if name.hasPrefix("_Z"), let raw = gtrace_demangle(name) {
            result = Self.dropRustHash(String(cString: raw))
            free(raw)
        } else if name.hasPrefix("_R") {
            result = RustV0Demangler.demangle(name) ?? name
        } else if name.hasPrefix("$s") || name.hasPrefix("_$s") || name.hasPrefix("$S") || name.hasPrefix("_T0") {
            result = swiftName(name) ?? name
        }
        cache[name] = result
        return result
    }

    /// `path::to::function::h0123456789abcdef` → `path::to::function`.
    static func dropRustHash(_ name: String) -> String {
        guard let range = name.range(of: "::h", options: .backwards) else { return name }
        let hash = name[range.upperBound...]
        return hash.count == 16 && hash.allSatisfy(\.isHexDigit) ? String(name[..<range.lowerBound]) : name
    }

    private mutating func swiftName(_ name: String) -> String? {
        guard let tool = swiftDemangle else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["--simplified", "--compact", name]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !text.isEmpty && text != name ? text : nil
    }

    static func findOnPath(_ tool: String) -> String? {
        let path = Foundation.ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
