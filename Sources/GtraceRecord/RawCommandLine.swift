#if canImport(Glibc)
import Glibc
#endif

/// The command's arguments and environment as the bytes gtrace received, not
/// as Swift strings: a string decodes invalid UTF-8 to U+FFFD, and the
/// command must receive exactly what it would without gtrace (RELIABILITY.md
/// item 10).
public enum RawCommandLine {
    /// The last `count` arguments of this process's own argv (the command
    /// after `--`), as NUL-terminated bytes.
    public static func trailingArguments(_ count: Int) -> [[CChar]] {
        let argc = Int(CommandLine.argc)
        guard count <= argc - 1 else { return [] }
        return (argc - count ..< argc).compactMap { i in
            CommandLine.unsafeArgv[i].map { p in Array(UnsafeBufferPointer(start: p, count: strlen(p) + 1)) }
        }
    }

    /// This process's environment in its order, with `overrides` replacing
    /// (or added after) the entries of those names.
    static func environment(overriding overrides: [(String, String)]) -> [[CChar]] {
        var entries: [[CChar]] = []
        let names = Set(overrides.map(\.0))
        var p = environ
        while let entry = p.pointee {
            let bytes = Array(UnsafeBufferPointer(start: entry, count: strlen(entry) + 1))
            let name = bytes.firstIndex(of: CChar(UInt8(ascii: "="))).map { String(decoding: bytes[..<$0].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            if name.map({ !names.contains($0) }) ?? true { entries.append(bytes) }
            p += 1
        }
        for (name, value) in overrides { entries.append(Array("\(name)=\(value)".utf8CString)) }
        return entries
    }
}
