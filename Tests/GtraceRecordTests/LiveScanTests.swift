import Foundation
import Testing
@testable import GtraceRecord

/// The live scan lists the session directory while the command runs.
@Suite struct LiveScanDirectoryTests {
    /// A short entry that ends a page, the next page unreadable (as readdir's buffer
    /// can end): its name is read without touching the next page. Copying d_name's
    /// 256 bytes crashed the recorder here (1 of 3 recordings of 500 Python threads).
    @Test func anEntryThatEndsAPageIsReadInPlace() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let mapped = try #require(mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        #expect(mapped != MAP_FAILED)
        defer { munmap(mapped, 2 * page) }
        #expect(mprotect(mapped + page, page, PROT_NONE) == 0)
        let name = "123.0.456.7.buf"
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name) ?? 19
        let length = (offset + name.utf8.count + 1 + 7) & ~7  // d_reclen: 8-byte aligned
        let entry = mapped + page - length
        memset(entry, 0, length)
        name.withCString { _ = memcpy(entry + offset, $0, name.utf8.count + 1) }
        #expect(LiveScan.name(of: entry.assumingMemoryBound(to: dirent.self)) == name)
    }
}
