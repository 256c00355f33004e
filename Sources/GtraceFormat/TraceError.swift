/// Problems found while reading or writing a trace. Each names where it happened.
public enum TraceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The file does not start with gtrace's magic bytes.
    case notATrace(path: String)
    /// The file is a gtrace trace of a version this reader does not know.
    case unsupportedVersion(path: String, version: Int)
    /// A record's bytes do not decode; `offset` is the byte offset of the record.
    case corrupt(path: String, offset: Int, reason: String)
    /// The file ends before its tables are complete: nothing usable.
    case truncatedHeader(path: String, offset: Int, reason: String)
    /// Writing failed.
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .notATrace(path): return "\(path): not a gtrace trace (bad magic bytes at offset 0)"
        case let .unsupportedVersion(path, version):
            return "\(path): trace format version \(version) is not supported (this gtrace reads version 1)"
        case let .corrupt(path, offset, reason): return "\(path): corrupt trace at byte \(offset): \(reason)"
        case let .truncatedHeader(path, offset, reason):
            return "\(path): truncated at byte \(offset) before any events: \(reason)"
        case let .unwritable(path, reason): return "\(path): cannot write: \(reason)"
        }
    }
}

/// A decoding failure inside a record, before it is given a file and offset.
struct DecodeError: Error {
    let reason: String
}
