import Foundation

/// Finds `libgtrace-runtime.so`: $GTRACE_RUNTIME, then the build tree (the
/// BuildRuntime plugin's resource folder next to the executable), then
/// installed next to the executable or in ../lib/gtrace.
public enum RuntimeLocator {
    public static let libraryName = "libgtrace-runtime.so"

    public static func candidates(executable: String = currentExecutable()) -> [String] {
        var paths: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["GTRACE_RUNTIME"], !explicit.isEmpty {
            paths.append(explicit)
        }
        let dir = (executable as NSString).deletingLastPathComponent
        paths.append("\(dir)/gtrace_GtraceRecord.resources/\(libraryName)")
        paths.append("\(dir)/\(libraryName)")
        paths.append("\(dir)/../lib/gtrace/\(libraryName)")
        return paths
    }

    /// The absolute, symlink-free path of the runtime library.
    public static func locate(executable: String = currentExecutable()) throws -> String {
        let paths = candidates(executable: executable)
        for path in paths where FileManager.default.isReadableFile(atPath: path) {
            return URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        }
        throw RecordError.runtimeNotFound(searched: paths)
    }

    /// The running executable's real path (/proc/self/exe).
    public static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
