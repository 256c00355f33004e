#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A buffered writer to a file descriptor (a path, or standard output).
/// Used by the trace writer and the streaming exporters.
public final class FileOutput {
    public let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private let flushThreshold = 1 << 20
    public private(set) var bytesWritten = 0

    /// Creates (truncating) `path`; "-" means standard output. `privateFile`
    /// (a trace: command lines, paths, symbol names) makes a regular file
    /// 0600 even when it existed before with a wider mode.
    public init(path: String, privateFile: Bool = false) throws {
        self.path = path
        if path == "-" {
            fd = 1
            ownsDescriptor = false
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, privateFile ? 0o600 : 0o644)
            guard fd >= 0 else { throw TraceError.unwritable(path: path, reason: String(cString: strerror(errno))) }
            ownsDescriptor = true
            var st = stat()
            if privateFile, fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o077 != 0 {
                _ = fchmod(fd, 0o600)
            }
        }
        buffer.reserveCapacity(flushThreshold + 65536)
    }

    /// Writes to `descriptor` (owned by the caller, not closed); `path` names it in messages.
    public init(descriptor: Int32, path: String) {
        self.path = path
        fd = descriptor
        ownsDescriptor = false
        buffer.reserveCapacity(flushThreshold + 65536)
    }

    deinit {
        if ownsDescriptor { Glibc.close(fd) }
    }

    public func write(_ bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushThreshold { try flush() }
    }

    public func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= flushThreshold { try flush() }
    }

    public func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw TraceError.unwritable(path: path, reason: String(cString: strerror(errno)))
            }
            offset += n
        }
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and, for a regular file, syncs nothing further: the page cache is enough.
    public func close() throws {
        try flush()
    }
}
