import Foundation
import GtraceSymbols
import Testing

/// Reading symbols with libelf from objects built here: an executable, a
/// shared library, a stripped copy, a separate debug file, broken files.
@Suite(.serialized) struct ElfObjectTests {
    static let source = """
    #include <pthread.h>
    pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
    struct table { long count; pthread_mutex_t guard; } table = {0, PTHREAD_MUTEX_INITIALIZER};
    __attribute__((noinline)) void worker_loop(int n) {
        for (int i = 0; i < n; i++) { pthread_mutex_lock(&queue_lock); table.count++; pthread_mutex_unlock(&queue_lock); }
    }
    """

    static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 { throw CocoaError(.executableLoad, userInfo: ["command": arguments.joined(separator: " ")]) }
    }

    static func build(in dir: String) throws -> (executable: String, library: String) {
        let c = "\(dir)/locks.c"
        try (source + "\nint main(void) { worker_loop(3); return 0; }\n").write(toFile: c, atomically: true, encoding: .utf8)
        try source.write(toFile: "\(dir)/lib.c", atomically: true, encoding: .utf8)
        try run(["cc", "-O1", "-g", "-fPIE", "-pie", "-pthread", "-o", "\(dir)/app", c])
        try run(["cc", "-O1", "-g", "-fPIC", "-shared", "-pthread", "-o", "\(dir)/libfoo.so", "\(dir)/lib.c"])
        return ("\(dir)/app", "\(dir)/libfoo.so")
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "gtrace-elf-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func namesGlobalsFieldsAndFunctionsOfAPIEExecutable() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let object = try ElfObject(path: try Self.build(in: dir).executable)
        #expect(object.isPositionIndependent)
        #expect(object.hasSymbolTable)
        #expect((object.buildID?.count ?? 0) >= 16, "Debian's linker adds a build-id")
        let lock = try #require(object.symbols.first { $0.name == "queue_lock" })
        #expect(!lock.isFunction && lock.size == 40)
        #expect(object.symbol(containing: lock.address)?.symbol.name == "queue_lock")
        let table = try #require(object.symbols.first { $0.name == "table" })
        let field = try #require(object.symbol(containing: table.address + 8))
        #expect(field.symbol.name == "table" && field.offset == 8, "a field of a global: table+0x8")
        let function = try #require(object.symbols.first { $0.name == "worker_loop" })
        #expect(function.isFunction)
        #expect(object.symbol(containing: function.address + 4)?.symbol.name == "worker_loop")
        #expect(!object.segments.isEmpty)
    }

    @Test func strippedLibraryStillNamesItsExportsFromDynsym() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let library = try Self.build(in: dir).library
        let stripped = "\(dir)/libfoo-stripped.so"
        try FileManager.default.copyItem(atPath: library, toPath: stripped)
        try Self.run(["strip", "--strip-all", stripped])
        let object = try ElfObject(path: stripped)
        #expect(!object.hasSymbolTable)
        #expect(object.symbols.contains { $0.name == "queue_lock" && !$0.isFunction })
        #expect(object.symbols.contains { $0.name == "worker_loop" && $0.isFunction })
        #expect(object.buildID == (try ElfObject(path: library)).buildID, "strip keeps the build-id")
    }

    @Test func separateDebugFileIsNamedByDebuglink() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let library = try Self.build(in: dir).library
        try Self.run(["objcopy", "--only-keep-debug", library, "\(dir)/libfoo.so.debug"])
        try Self.run(["strip", "--strip-debug", "--strip-unneeded", library])
        try Self.run(["objcopy", "--add-gnu-debuglink=\(dir)/libfoo.so.debug", library])
        let object = try ElfObject(path: library)
        #expect(object.debugLink?.name == "libfoo.so.debug")
        let debug = try ElfObject(path: "\(dir)/libfoo.so.debug")
        #expect(debug.hasSymbolTable && debug.symbols.contains { $0.name == "worker_loop" })
        #expect(debug.buildID == object.buildID)
    }

    @Test func brokenAndMissingFilesAreErrorsNotCrashes() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ElfError.self) { try ElfObject(path: "\(dir)/missing.so") }
        let notELF = "\(dir)/text.so"
        try "not an object".write(toFile: notELF, atomically: true, encoding: .utf8)
        #expect(throws: ElfError.notELF(path: notELF)) { try ElfObject(path: notELF) }
        // An ELF header followed by garbage: section headers point outside the file.
        let library = try Self.build(in: dir).library
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: library)).prefix(64))
        bytes += [UInt8](repeating: 0xff, count: 200)
        let corrupt = "\(dir)/corrupt.so"
        try Data(bytes).write(to: URL(fileURLWithPath: corrupt))
        #expect(throws: ElfError.self) { try ElfObject(path: corrupt) }
    }
}
