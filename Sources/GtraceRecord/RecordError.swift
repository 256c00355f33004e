/// Problems of `gtrace record` itself (not of the traced command).
public enum RecordError: Error, Equatable, CustomStringConvertible {
    case runtimeNotFound(searched: [String])
    case refuseOverwrite(path: String)
    case sessionDirectory(reason: String)
    case launch(command: String, reason: String)
    /// Found before the command runs: -o names no place a trace can be written.
    case unwritableOutput(path: String, reason: String)
    /// The command ran, but its trace could not be written.
    case writeFailed(path: String, reason: String, commandStatus: Int32)

    public var description: String {
        switch self {
        case let .runtimeNotFound(searched):
            return "libgtrace-runtime.so not found (looked in \(searched.joined(separator: ", "))); build with `swift build` or set GTRACE_RUNTIME"
        case let .refuseOverwrite(path):
            return "\(path): exists and is not a gtrace trace; refusing to overwrite it (choose another file with -o)"
        case let .sessionDirectory(reason): return "cannot create the session directory: \(reason)"
        case let .launch(command, reason): return "\(command): \(reason)"
        case let .unwritableOutput(path, reason):
            return "\(path): cannot write the trace there (\(reason)); the command was not run (choose another file with -o)"
        case let .writeFailed(path, reason, status):
            return "\(path): the trace could not be written (\(reason)); the command ran and exited with status \(status)"
        }
    }
}
