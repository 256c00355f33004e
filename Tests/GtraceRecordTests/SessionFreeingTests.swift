import Foundation
import Testing
@testable import GtraceRecord

/// The session's files are emptied on another thread once the merge has encoded
/// the events (SessionDirectory.startFreeing): a chunk's pages go even while it
/// is still open, but nothing a link in the session points to is touched.
@Suite struct SessionFreeingTests {
    @Test func chunksAreEmptiedAndLinkedFilesKept() throws {
        let session = try SessionDirectory()
        // Beside the session (the same file system, so that a hard link can be made).
        var template = Array(((session.path as NSString).deletingLastPathComponent + "/gtrace-test-XXXXXX").utf8CString)
        let outside = try #require(mkdtemp(&template).map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let bytes = Data(repeating: 0x5a, count: 1 << 20)
        // A chunk written by the runtime, still open (as the merge's mapping keeps it).
        try bytes.write(to: URL(fileURLWithPath: session.path + "/chunk-1-0"))
        let chunk = open(session.path + "/chunk-1-0", O_RDONLY)
        #expect(chunk >= 0)
        defer { close(chunk) }
        try FileManager.default.createDirectory(atPath: session.path + "/perf", withIntermediateDirectories: false)
        try bytes.write(to: URL(fileURLWithPath: session.path + "/perf/cpu0.raw"))
        // Files outside, reached by a symbolic link and by a second hard link.
        try bytes.write(to: URL(fileURLWithPath: outside + "/target"))
        try bytes.write(to: URL(fileURLWithPath: outside + "/linked"))
        try FileManager.default.createSymbolicLink(atPath: session.path + "/symlink", withDestinationPath: outside + "/target")
        #expect(link(outside + "/linked", session.path + "/hardlink") == 0)

        session.startFreeing()
        session.remove()

        var info = stat()
        #expect(fstat(chunk, &info) == 0 && info.st_size == 0, "the open chunk was not emptied: \(info.st_size) bytes")
        #expect(!FileManager.default.fileExists(atPath: session.path))
        for name in ["target", "linked"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: outside + "/" + name)[.size] as? Int) ?? -1
            #expect(size == bytes.count, "\(name) outside the session: \(size) bytes")
        }
    }
}
