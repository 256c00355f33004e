#if canImport(Glibc)
import Glibc
#endif

/// A read-only memory mapping of a whole file, unmapped when released; or a
/// page-aligned part of one (a slice, which keeps its whole file mapped).
public final class MappedFile: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    /// The mapping to unmap: nil for an empty file and for a slice.
    private let base: UnsafeMutableRawPointer?
    private let whole: MappedFile?

    /// `followSymlinks: false` refuses a symbolic link (files written by the traced tree).
    public init(path: String, followSymlinks: Bool = true) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (followSymlinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else { throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw TraceError.unreadable(path: path, reason: "not a regular file") }
        let size = Int(info.st_size)
        whole = nil
        if size == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw TraceError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        base = mapped
        bytes = UnsafeRawBufferPointer(start: mapped, count: size)
    }

    /// Bytes `offset..<offset + count` of `file`; `offset` a multiple of the page size.
    public init?(slice file: MappedFile, offset: Int, count: Int) {
        guard offset >= 0, count >= 0, offset <= file.bytes.count - count, let start = file.bytes.baseAddress else { return nil }
        whole = file
        base = nil
        bytes = UnsafeRawBufferPointer(start: start + offset, count: count)
    }

    /// Unmaps this process's pages of the file and keeps the mapping
    /// (MADV_DONTNEED): the file keeps its contents, the next read maps them
    /// again. A merge calls it after each chunk so that its resident memory
    /// does not grow with the session (the chunks are pages of tmpfs already).
    public func dropResidentPages() {
        if let start = bytes.baseAddress { madvise(UnsafeMutableRawPointer(mutating: start), bytes.count, MADV_DONTNEED) }
    }

    deinit {
        if let base { munmap(base, bytes.count) }
    }
}
