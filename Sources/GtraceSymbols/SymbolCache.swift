import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// ELF symbol tables kept across recordings, by build-id (else by the file's
/// identity, `fileIdentity`): reading a large object (node, libjvm,
/// libcrypto, libLLVM) with libelf and sorting its symbols takes tens to
/// hundreds of milliseconds at the end of each `record`; loading the sorted
/// table back takes a few.
///
/// A build-id names the object's contents, so a cached table is the table of
/// the object that was loaded, even if the file on disk changed since. Files
/// are `<key>.gtsym` in a directory of the user's own (created 0700; not used
/// when it is a symlink, another user's, or writable by others), written to a
/// temporary name and renamed. A file that fails any check on reading is
/// ignored and rewritten. Past 1 GiB the least recently used files go.
/// Format: docs/FORMAT.md, "Symbol cache".
public struct SymbolCache: Sendable {
    public let directory: String?

    /// `$GTRACE_SYMBOL_CACHE` ("" or "off": no cache), else
    /// `$XDG_CACHE_HOME/gtrace/symbols`, else `~/.cache/gtrace/symbols`.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> SymbolCache {
        if let chosen = environment["GTRACE_SYMBOL_CACHE"] {
            return SymbolCache(directory: chosen.isEmpty || chosen == "off" ? nil : chosen)
        }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return SymbolCache(directory: xdg + "/gtrace/symbols") }
        guard let home = environment["HOME"], home.hasPrefix("/") else { return SymbolCache(directory: nil) }
        return SymbolCache(directory: home + "/.cache/gtrace/symbols")
    }

    public init(directory: String?) {
        self.directory = directory
    }

    /// The object at `path` whose build-id is `buildID` (as recorded when it
    /// was loaded): from the cache when there, else read from the file (and
    /// cached when its build-id is that one). `fromCache` says which.
    ///
    /// An object loaded without a build-id (Rust's toolchain, some vendors'
    /// libraries) is cached by the file's identity instead: path, device,
    /// inode, size and modification time, which is what naming it from the
    /// file at `path` assumes anyway.
    public func object(path: String, buildID: String?) throws -> (object: ElfObject, fromCache: Bool) {
        guard let directory, let key = Self.key(path: path, buildID: buildID) else { return (try ElfObject(path: path), false) }
        let file = "\(directory)/\(key).gtsym"
        if Self.usable(directory, create: false), let object = Self.read(file, path: path), object.buildID == buildID {
            return (object, true)
        }
        let object = try ElfObject(path: path)
        if object.buildID == buildID, Self.usable(directory, create: true) {
            Self.write(object.cacheBytes(), to: file, in: directory)
            Self.trim(directory)
        }
        return (object, false)
    }

    /// The cache's size bound: past it, the least recently used files go
    /// (a hit refreshes a file's modification time) until 3/4 of it is left.
    static let maximumBytes = 1 << 30

    static func trim(_ directory: String, maximumBytes: Int = maximumBytes) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        var files: [(path: String, bytes: Int, used: Int)] = []
        for name in names where name.hasSuffix(".gtsym") {
            var info = stat()
            let path = "\(directory)/\(name)"
            if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { files.append((path, Int(info.st_size), info.st_mtim.tv_sec)) }
        }
        var total = files.reduce(0) { $0 + $1.bytes }
        guard total > maximumBytes else { return }
        for file in files.sorted(by: { $0.used < $1.used }) where total > maximumBytes / 4 * 3 {
            if unlink(file.path) == 0 { total -= file.bytes }
        }
    }

    /// The cache file's name: the recorded build-id, or for an object loaded
    /// without one its file's identity; nil for a malformed build-id.
    static func key(path: String, buildID: String?) -> String? {
        guard let buildID else { return fileIdentity(path) }
        return isBuildID(buildID) ? buildID : nil
    }

    static func isBuildID(_ id: String) -> Bool {
        (8...128).contains(id.utf8.count) && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// "file-" and a 64-bit FNV-1a hash of the file's path, device, inode, size
    /// and modification time; nil when it cannot be stat'ed.
    static func fileIdentity(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) { for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 } }
        mix(path.utf8)
        for v in [UInt64(info.st_dev), UInt64(info.st_ino), UInt64(bitPattern: Int64(info.st_size)),
                  UInt64(bitPattern: Int64(info.st_mtim.tv_sec)), UInt64(bitPattern: Int64(info.st_mtim.tv_nsec))] {
            mix([0] + withUnsafeBytes(of: v.littleEndian, Array.init))
        }
        let hex = String(hash, radix: 16)
        return "file-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The directory exists (or was created), is a directory of this user, and no one else can write to it.
    static func usable(_ directory: String, create: Bool) -> Bool {
        var info = stat()
        if lstat(directory, &info) != 0 {
            guard create, errno == ENOENT else { return false }
            let parent = (directory as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard mkdir(directory, 0o700) == 0 || errno == EEXIST, lstat(directory, &info) == 0 else { return false }
        }
        return (info.st_mode & S_IFMT) == S_IFDIR && info.st_uid == geteuid() && (info.st_mode & 0o022) == 0
    }

    /// The object cached in `file`, read in place through a private mapping
    /// that lives as long as the object (node's file is 15 MB: no copy).
    private static func read(_ file: String, path: String) -> ElfObject? {
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid(),
              info.st_size > 0, info.st_size < 1 << 31 else { return nil }
        futimens(fd, nil)  // used now: trimmed last
        let size = Int(info.st_size)
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else { return nil }
        return ElfObject(cached: CacheBytes(mapping: mapped, count: size), path: path)
    }

    private static func write(_ bytes: [UInt8], to file: String, in directory: String) {
        var template = Array("\(directory)/.tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var done = 0, failed = false
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { failed = true; break }
            done += n
        }
        close(fd)
        if failed || rename(temporary, file) != 0 { unlink(temporary) }
    }
}

// MARK: - The cache file's contents

extension ElfObject {
    static let cacheMagic: [UInt8] = Array("GTSYM\0\0\u{1}".utf8)

    /// magic, flags u32 (1: position independent, 2: has .symtab), segment
    /// count u32, entry count u64, names length u64, build-id (u32 length +
    /// bytes), debuglink (u32 length, 0xffffffff for none, + bytes, u32 CRC),
    /// segments (3 × u64), entries (address, size, name offset | function
    /// bit 63: 3 × u64), names. Little-endian.
    func cacheBytes() -> [UInt8] {
        var out = Self.cacheMagic
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func text(_ s: String?) {
            guard let s else { return u32(.max) }
            u32(UInt32(s.utf8.count))
            out.append(contentsOf: s.utf8)
        }
        u32((isPositionIndependent ? 1 : 0) | (hasSymbolTable ? 2 : 0))
        u32(UInt32(segments.count))
        let namesCount = table.withNames { $0.count }
        u64(UInt64(table.count))
        u64(UInt64(namesCount))
        text(buildID)
        text(debugLink?.name)
        u32(debugLink?.crc ?? 0)
        out.reserveCapacity(out.count + segments.count * 24 + table.count * 24 + namesCount)
        for s in segments { u64(s.virtualAddress); u64(s.fileOffset); u64(s.memorySize) }
        for i in 0..<table.count {
            let e = table.entry(i)
            u64(e.address); u64(e.size); u64(UInt64(e.name) | (e.isFunction ? 1 << 63 : 0))
        }
        table.withNames { out.append(contentsOf: $0) }
        return out
    }

    /// The object a cache file describes; nil when any length, offset or order is off.
    init?(cached bytes: [UInt8], path: String) {
        guard let object = bytes.withUnsafeBytes({ ElfObject(cached: CacheBytes(copying: $0), path: path) }) else { return nil }
        self = object
    }

    /// The same, reading the entries and names in place in `cache`.
    init?(cached cache: CacheBytes, path: String) {
        let bytes = cache.bytes
        var at = 0
        func take(_ n: Int) -> Slice<UnsafeRawBufferPointer>? {
            guard n >= 0, n <= bytes.count - at else { return nil }
            defer { at += n }
            return bytes[at..<at + n]
        }
        func u32() -> UInt32? { take(4).map { $0.reversed().reduce(0) { $0 << 8 | UInt32($1) } } }
        func u64() -> UInt64? { take(8).map { $0.reversed().reduce(0) { $0 << 8 | UInt64($1) } } }
        func text() -> String?? {
            guard let n = u32() else { return nil }
            if n == .max { return .some(nil) }
            guard let b = take(Int(n)), let s = String(bytes: b, encoding: .utf8) else { return nil }
            return .some(s)
        }
        guard take(Self.cacheMagic.count).map(Array.init) == Self.cacheMagic,
              let flags = u32(), let segmentCount = u32(), let entryCount = u64(), let namesCount = u64(),
              let buildID = text(), let link = text(), let crc = u32(),
              entryCount <= UInt64(bytes.count / 24), namesCount <= UInt64(bytes.count),
              UInt64(bytes.count - at) == UInt64(segmentCount) * 24 + entryCount * 24 + namesCount else { return nil }
        var segments: [Segment] = []
        for _ in 0..<segmentCount {
            guard let v = u64(), let f = u64(), let m = u64() else { return nil }
            segments.append(Segment(virtualAddress: v, fileOffset: f, memorySize: m))
        }
        guard let table = SymbolTable(cache: cache, entries: at, count: Int(entryCount), namesCount: Int(namesCount)) else { return nil }
        self.path = path
        self.buildID = buildID
        self.debugLink = link.map { ($0, crc) }
        self.isPositionIndependent = flags & 1 != 0
        self.hasSymbolTable = flags & 2 != 0
        self.segments = segments
        self.table = table
    }
}
