import CGtraceFormat
import Foundation
import GtraceFormat
import Testing
@testable import GtraceRecord

/// A session's arenas (threads' first chunks as slots of one file, arena.c)
/// and tids the kernel reused within one process image.
@Suite struct ArenaReaderTests {
    static let image = SessionContents.ImageKey(pid: 10, image: 0)

    static func record(_ kind: gtrace_raw_kind, at tsc: UInt64) -> gtrace_raw_record {
        SessionScanTests.record(kind, at: tsc, addr: kind == GTRACE_RAW_CLOCK_SYNC ? 1_000_000 + tsc : 0x100)
    }

    /// A chunk header and its records, as the runtime writes them.
    static func chunkBytes(pid: Int32 = 10, tid: Int32, number: UInt32, records: [gtrace_raw_record], size: Int) -> Data {
        var header = gtrace_buffer_header()
        withUnsafeMutableBytes(of: &header.magic) { magic in
            for (i, byte) in GTRACE_BUFFER_MAGIC.utf8.enumerated() { magic[i] = byte }
        }
        header.version = GTRACE_BUFFER_VERSION
        header.record_size = 32
        header.pid = UInt32(bitPattern: pid)
        header.tid = UInt32(bitPattern: tid)
        header.chunk = number
        header.capacity = UInt64((size - 64) / 32)
        header.reserved = UInt64(records.count)
        var bytes = Data(bytes: &header, count: 64)
        for var r in records { bytes.append(Data(bytes: &r, count: 32)) }
        bytes.append(Data(count: size - bytes.count))
        return bytes
    }

    static func tscs(_ thread: SessionContents.ThreadRecords) -> [UInt64] {
        var all: [UInt64] = []
        thread.forEach { all.append($0.tsc) }
        return all
    }

    /// Tid 11 is two threads: the first's chunk 0 in slot 0 and chunk 1 a file;
    /// the second's chunk 0 in slot 2 and, as the runtime numbers a reused tid's
    /// files, chunk 2. Tid 12 is a thread of one slot. Slot 1 was never claimed;
    /// slot 3 names another process and is not this image's.
    @Test func slotsAreFirstChunksAndAReusedTidIsTwoThreads() throws {
        let dir = try SessionScanTests.directory("arena")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let slot = ArenaFile.slotBytes
        var arena = Data()
        arena += Self.chunkBytes(tid: 11, number: 0, records: [Self.record(GTRACE_RAW_CLOCK_SYNC, at: 100),
                                                               Self.record(GTRACE_RAW_THREAD_START, at: 101),
                                                               Self.record(GTRACE_RAW_LOCK_ACQUIRE, at: 102)], size: slot)
        arena += Data(count: slot)
        arena += Self.chunkBytes(tid: 11, number: 0, records: [Self.record(GTRACE_RAW_CLOCK_SYNC, at: 300),
                                                               Self.record(GTRACE_RAW_THREAD_START, at: 301)], size: slot)
        arena += Self.chunkBytes(pid: 99, tid: 11, number: 0, records: [Self.record(GTRACE_RAW_THREAD_START, at: 500)], size: slot)
        try arena.write(to: URL(fileURLWithPath: "\(dir)/10.0.0.arena"))
        var second = Data()
        second += Self.chunkBytes(tid: 12, number: 0, records: [Self.record(GTRACE_RAW_CLOCK_SYNC, at: 150),
                                                                Self.record(GTRACE_RAW_THREAD_START, at: 151)], size: slot)
        second += Data(count: 3 * slot)
        try second.write(to: URL(fileURLWithPath: "\(dir)/10.0.1.arena"))
        try Self.chunkBytes(tid: 11, number: 1, records: [Self.record(GTRACE_RAW_LOCK_RELEASE, at: 200),
                                                          Self.record(GTRACE_RAW_CLOCK_SYNC, at: 201)], size: 2 * slot)
            .write(to: URL(fileURLWithPath: "\(dir)/10.0.11.1.buf"))
        try Self.chunkBytes(tid: 11, number: 2, records: [Self.record(GTRACE_RAW_LOCK_ACQUIRE, at: 400),
                                                          Self.record(GTRACE_RAW_CLOCK_SYNC, at: 401)], size: 2 * slot)
            .write(to: URL(fileURLWithPath: "\(dir)/10.0.11.2.buf"))

        let contents = SessionReader.read(directory: dir)
        let threads = contents.threads.map { ($0.tid, $0.generation, $0.chunkNumbers, Self.tscs($0)) }
        #expect(threads.count == 3, "\(threads)")
        let first = try #require(contents.threads.first { $0.tid == 11 && $0.generation == 0 })
        #expect(first.chunkNumbers == [0, 1])
        #expect(Self.tscs(first) == [100, 101, 102, 200, 201])
        let reused = try #require(contents.threads.first { $0.tid == 11 && $0.generation == 1 })
        #expect(reused.chunkNumbers == [0, 2])
        #expect(Self.tscs(reused) == [300, 301, 400, 401])
        let other = try #require(contents.threads.first { $0.tid == 12 })
        #expect(other.generation == 0 && Self.tscs(other) == [150, 151])
        #expect(contents.threads.allSatisfy { $0.image == Self.image })
        #expect(contents.bufferChunks == 5)
    }

    /// Without arenas, a reused tid's files continue the numbers of the first
    /// thread's (the runtime takes the next free one): the second thread begins
    /// at the chunk that starts with its THREAD_START.
    @Test func aReusedTidsFilesSplitAtItsThreadStart() throws {
        let dir = try SessionScanTests.directory("reused")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let size = ArenaFile.slotBytes
        let chunks: [[gtrace_raw_record]] = [
            [Self.record(GTRACE_RAW_CLOCK_SYNC, at: 10), Self.record(GTRACE_RAW_THREAD_START, at: 11)],
            [Self.record(GTRACE_RAW_THREAD_END, at: 20), Self.record(GTRACE_RAW_CLOCK_SYNC, at: 21)],
            [Self.record(GTRACE_RAW_CLOCK_SYNC, at: 30), Self.record(GTRACE_RAW_THREAD_START, at: 31)],
            [Self.record(GTRACE_RAW_LOCK_ACQUIRE, at: 40), Self.record(GTRACE_RAW_CLOCK_SYNC, at: 41)],
        ]
        for (number, records) in chunks.enumerated() {
            try Self.chunkBytes(tid: 11, number: UInt32(number), records: records, size: size)
                .write(to: URL(fileURLWithPath: "\(dir)/10.0.11.\(number).buf"))
        }
        let contents = SessionReader.read(directory: dir)
        #expect(contents.threads.map(\.generation) == [0, 1])
        #expect(contents.threads.map(\.chunkNumbers) == [[0, 1], [2, 3]])
        #expect(contents.threads.map(Self.tscs) == [[10, 11, 20, 21], [30, 31, 40, 41]])
    }
}
