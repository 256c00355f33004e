import Foundation
@testable import GtraceSymbols
import Testing

/// The symbol cache: a table loaded back equals the table read with libelf;
/// a damaged cache file is ignored (and rewritten), never trusted or a crash;
/// a directory another user could write to is not used.
@Suite(.serialized) struct SymbolCacheTests {
    static func sameTable(_ a: ElfObject, _ b: ElfObject) -> Bool {
        a.symbols == b.symbols && a.buildID == b.buildID && a.segments == b.segments
            && a.isPositionIndependent == b.isPositionIndependent && a.hasSymbolTable == b.hasSymbolTable
            && a.debugLink?.name == b.debugLink?.name && a.debugLink?.crc == b.debugLink?.crc
    }

    @Test func aCachedTableEqualsTheTableReadWithLibelf() throws {
        let dir = try ElfObjectTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let library = try ElfObjectTests.build(in: dir).library
        try ElfObjectTests.run(["objcopy", "--add-gnu-debuglink=\(dir)/lib.c", library])  // any file: a debuglink to carry
        for path in [library, "/usr/bin/python3.11", "/lib/x86_64-linux-gnu/libc.so.6"] where FileManager.default.fileExists(atPath: path) {
            let fresh = try ElfObject(path: path)
            let id = try #require(fresh.buildID, "\(path) has a build-id")
            let cache = SymbolCache(directory: "\(dir)/cache")
            let firstFromCache = try cache.object(path: path, buildID: id).fromCache
            #expect(!firstFromCache)
            #expect(FileManager.default.fileExists(atPath: "\(dir)/cache/\(id).gtsym"))
            let second = try cache.object(path: path, buildID: id)
            let hit = second.fromCache, same = Self.sameTable(second.object, fresh)
            #expect(hit, "\(path)")
            #expect(same, "\(path)")
            for symbol in fresh.symbols.prefix(200) {
                #expect(second.object.symbol(containing: symbol.address + 1)?.symbol == fresh.symbol(containing: symbol.address + 1)?.symbol)
            }
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(dir)/cache")
        #expect((attributes[.posixPermissions] as? Int ?? 0) == 0o700)
    }

    @Test func damagedCacheFilesAreIgnoredAndRewritten() throws {
        let dir = try ElfObjectTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let library = try ElfObjectTests.build(in: dir).library
        let fresh = try ElfObject(path: library)
        let bytes = fresh.cacheBytes()
        let roundTrip = ElfObject(cached: bytes, path: library).map { Self.sameTable($0, fresh) } ?? false
        #expect(roundTrip)
        // Every cut, and flipped bytes, give nil or a table, never a trap.
        let cutsRead = (0..<bytes.count).filter { ElfObject(cached: Array(bytes.prefix($0)), path: library) != nil }
        #expect(cutsRead.isEmpty, "cuts read as tables: \(cutsRead.prefix(5))")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) { damaged[Int.random(in: 0..<damaged.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator) }
            _ = ElfObject(cached: damaged, path: library)?.symbol(containing: 0x1000)
        }
        // On disk: garbage under the build-id's name is read past, and replaced by a good file.
        let id = try #require(fresh.buildID)
        let cache = SymbolCache(directory: "\(dir)/cache")
        _ = try cache.object(path: library, buildID: id)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: "\(dir)/cache/\(id).gtsym"))
        let reread = try cache.object(path: library, buildID: id)
        let rereadGood = !reread.fromCache && Self.sameTable(reread.object, fresh)
        #expect(rereadGood)
        let rewritten = try cache.object(path: library, buildID: id).fromCache
        #expect(rewritten, "rewritten")
        // A build-id that is not the file's (it changed since the recording) is never cached under that id.
        let other = String(repeating: "ab", count: 20)
        _ = try cache.object(path: library, buildID: other)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/cache/\(other).gtsym"))
    }

    @Test func aDirectoryOthersCanWriteIsNotUsed() throws {
        let dir = try ElfObjectTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let library = try ElfObjectTests.build(in: dir).library
        let id = try #require(try ElfObject(path: library).buildID)
        try FileManager.default.createDirectory(atPath: "\(dir)/open", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o777])
        _ = try SymbolCache(directory: "\(dir)/open").object(path: library, buildID: id)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/open/\(id).gtsym"))
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/link", withDestinationPath: "\(dir)/open")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: "\(dir)/open")
        _ = try SymbolCache(directory: "\(dir)/link").object(path: library, buildID: id)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/open/\(id).gtsym"), "not through a symlink")
        #expect(SymbolCache.standard(environment: ["GTRACE_SYMBOL_CACHE": "off", "HOME": "/root"]).directory == nil)
        #expect(SymbolCache.standard(environment: ["HOME": "/home/u"]).directory == "/home/u/.cache/gtrace/symbols")
    }

    /// Without a build-id, the file's identity (path, inode, size, mtime) is the key: a changed file is read again.
    @Test func anObjectWithoutABuildIDIsCachedByItsFile() throws {
        let dir = try ElfObjectTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (ElfObjectTests.source + "\nint main(void) { worker_loop(3); return 0; }\n").write(toFile: "\(dir)/a.c", atomically: true, encoding: .utf8)
        try ElfObjectTests.run(["cc", "-O1", "-pthread", "-Wl,--build-id=none", "-o", "\(dir)/app", "\(dir)/a.c"])
        let fresh = try ElfObject(path: "\(dir)/app")
        #expect(fresh.buildID == nil)
        let cache = SymbolCache(directory: "\(dir)/cache")
        let first = try cache.object(path: "\(dir)/app", buildID: nil).fromCache
        let second = try cache.object(path: "\(dir)/app", buildID: nil)
        let hit = second.fromCache, same = SymbolCacheTests.sameTable(second.object, fresh)
        #expect(!first && hit && same)
        // Rebuilt (another inode and time): not the cached table.
        try ElfObjectTests.run(["cc", "-O1", "-pthread", "-Wl,--build-id=none", "-o", "\(dir)/app.new", "\(dir)/a.c"])
        try FileManager.default.removeItem(atPath: "\(dir)/app")
        try FileManager.default.moveItem(atPath: "\(dir)/app.new", toPath: "\(dir)/app")
        let afterChange = try cache.object(path: "\(dir)/app", buildID: nil).fromCache
        #expect(!afterChange)
    }

    /// Past its bound the cache drops its least recently used files.
    @Test func theCacheIsTrimmedOldestFirst() throws {
        let dir = try ElfObjectTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<4 {
            let path = "\(dir)/\(i).gtsym"
            try Data(count: 1000).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: Double(1_000_000 + i))], ofItemAtPath: path)
        }
        SymbolCache.trim(dir, maximumBytes: 3000)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == ["2.gtsym", "3.gtsym"], "the two oldest went: \(left)")
    }
}
