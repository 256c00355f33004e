import Foundation
import GtraceFormat

#if canImport(Glibc)
import Glibc
#endif

/// The per-recording directory the runtime writes into: on tmpfs when possible.
/// Private (0700, every file 0600), except when the recorder runs as root:
/// then the tree may switch to other uids (su, sudo, setuid()), so the
/// directory is 0711 (others may pass, not list) and holds a drop box with a
/// random 128-bit name, mode 1733: any uid may create its own files in it
/// (O_EXCL, O_NOFOLLOW), none may list it, delete or replace another's. A
/// local user who does not know the name cannot reach it.
final class SessionDirectory {
    let path: String
    /// The drop box's name inside `path`, when there is one.
    private(set) var dropName: String?
    private var freeing: BackgroundWork?

    /// Where sessions are created, in order of preference (`Recovery` looks in the same places).
    static var bases: [String] {
        var seen: [String] = []
        for base in ["/dev/shm", Foundation.ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp", "/tmp"] where !seen.contains(base) {
            seen.append(base)
        }
        return seen
    }
    static let namePrefix = "gtrace-session-"

    init() throws {
        for base in Self.bases {
            // mkdtemp replaces the six trailing X's.
            var template = Array("\(base)/\(Self.namePrefix)\(String(repeating: "X", count: 6))".utf8CString)
            if let made = mkdtemp(&template) {
                path = String(cString: made)
                if geteuid() == 0 { makeDropBox() }
                return
            }
        }
        throw RecordError.sessionDirectory(reason: String(cString: strerror(errno)))
    }

    private func makeDropBox() {
        var generator = SystemRandomNumberGenerator()
        let name = "drop-" + (0..<2).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
        let box = path + "/" + name
        guard mkdir(box, 0o700) == 0 else { return }
        guard chmod(box, 0o1733) == 0, chmod(path, 0o711) == 0 else {
            chmod(path, 0o700)
            return
        }
        dropName = name
    }

    /// Frees the session's files on another thread while the trace is written:
    /// freeing their tmpfs pages in `remove()` took 9–11 ms after the write for a
    /// million events. Only once the merge no longer reads the chunks: a truncated
    /// file's mapped pages fault.
    func startFreeing() {
        guard freeing == nil else { return }
        let path = self.path, drop = dropName
        freeing = BackgroundWork { Self.truncateFiles(in: path, skipping: drop, depth: 1) }
    }

    /// Empties the regular files of `directory` and of its subdirectories, `depth`
    /// levels down, but not the drop box: truncating frees a file's pages even
    /// while the merge still maps it (unlinking would wait for the munmap). Only
    /// this uid's files with no other link, and no symbolic link is followed: a
    /// traced program that knows the session's path could put a link there. The
    /// drop box's files belong to other uids and are left to `remove()`.
    private static func truncateFiles(in directory: String, skipping drop: String?, depth: Int) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0, let dir = fdopendir(fd) else {
            if fd >= 0 { close(fd) }
            return
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." || name == drop { continue }
            if entry.pointee.d_type == UInt8(DT_DIR) {
                if depth > 0 { truncateFiles(in: directory + "/" + name, skipping: nil, depth: depth - 1) }
                continue
            }
            let file = openat(fd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard file >= 0 else { continue }
            var info = stat()
            if fstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid(), info.st_nlink == 1 { _ = ftruncate(file, 0) }
            close(file)
        }
    }

    /// Removes the session (after the freeing, if started).
    func remove() {
        freeing?.join()
        try? FileManager.default.removeItem(atPath: path)
    }
}
