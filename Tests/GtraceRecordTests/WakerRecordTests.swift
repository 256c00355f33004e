import CGtraceFormat
import GtraceFormat
import Testing
@testable import GtraceRecord

/// A raw IO_WRITE record carries its bytes in the high half of its dev word (wakers.c):
/// the object id is the dev's low half's, and the event's value gets the bytes above the fd.
struct WakerRecordTests {
    static func write(fd: UInt32, inode: UInt64, device: UInt64, bytes: UInt64) -> gtrace_raw_record {
        gtrace_raw_record(tsc: 1, kind: UInt16(GTRACE_RAW_WAKER.rawValue), flags: UInt16(GTRACE_WAKER_IO_WRITE.rawValue),
                          u32: fd, addr: inode, arg: device | bytes << 32)
    }

    @Test func anIOWritesBytesRideAboveItsDevice() throws {
        let r = Self.write(fd: 7, inode: 4242, device: 0x0803, bytes: 2_500_000)
        let kind = try #require(TraceBuilder.wakerKind(r, lock: { _ in 0 }))
        guard case let .waker(what, object, value) = kind else { Issue.record("\(kind)"); return }
        #expect(what == .ioWrite)
        // The same object as a wait on that pipe, whose record has the plain dev.
        #expect(object == WakerKind.objectID(inode: 4242, device: 0x0803))
        #expect(UInt32(truncatingIfNeeded: value) == 7 && WakerKind.writtenBytes(value) == 2_500_000)
    }

    @Test func aWaitOnTheSameObjectKeepsItsValue() throws {
        let r = gtrace_raw_record(tsc: 1, kind: UInt16(GTRACE_RAW_WAKER.rawValue), flags: UInt16(GTRACE_WAKER_IO_WAIT.rawValue),
                                  u32: 3, addr: 4242, arg: 0x0803)
        let kind = try #require(TraceBuilder.wakerKind(r, lock: { _ in 0 }))
        #expect(kind == .waker(kind: .ioWait, object: WakerKind.objectID(inode: 4242, device: 0x0803), value: 3))
    }
}
