import Foundation
import Testing
@testable import GtraceFormat

/// Waker events (op 12) survive a write and a read, and dump as text.
struct WakerEventTests {
    @Test func wakerEventsRoundTrip() throws {
        var (tables, events) = sampleTrace()
        let wakers: [TraceEvent] = [
            .init(time: 5_001, thread: 0, kind: .waker(kind: .ioWrite, object: WakerKind.objectID(inode: 1234, device: 12), value: 4)),
            .init(time: 5_002, thread: 0, kind: .waker(kind: .condSignal, object: 2, value: 0)),
            .init(time: 5_003, thread: 0, kind: .waker(kind: .reaped, object: 4242, value: 256)),
            .init(time: 5_004, thread: 0, kind: .waker(kind: WakerKind(rawValue: 200), object: .max, value: .max)),
        ]
        let at = try #require(events[0].firstIndex { $0.time > 5_000 })
        events[0].insert(contentsOf: wakers, at: at)
        let path = try writeTemporaryTrace((tables, events))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (read, warnings) = readAll(try TraceFile(path: path))
        #expect(warnings.isEmpty)
        #expect(read.filter { if case .waker = $0.kind { return true } else { return false } } == wakers)
        let text = TextDump.line(wakers[1], tables: tables)
        #expect(text.contains("cond-signal"), "\(text)")
    }
}
