import Foundation
import Testing
@testable import GtraceFormat

@Suite struct RoundTripTests {
    @Test func tablesAndEventsSurviveWriteThenRead() throws {
        let (tables, perThread) = sampleTrace()
        let path = try writeTemporaryTrace((tables, perThread))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try TraceFile(path: path)
        var expectedTables = tables
        expectedTables.strings += ["/bin/app", "./app", "--flag"]  // interned by the process record
        #expect(file.tables == expectedTables)
        let (events, warnings) = readAll(file)
        #expect(warnings.isEmpty)
        let expected = perThread.flatMap { $0 }.enumerated()
            .sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        #expect(events == expected)
    }

    @Test func eventsComeBackInTimeOrderAcrossManyBlocks() throws {
        var (tables, _) = sampleTrace()
        tables.threads = (0..<3).map {
            ThreadInfo(index: $0, process: 0, tid: Int32(100 + $0), name: "main", creator: nil, startNanoseconds: 0,
                       endNanoseconds: nil, endKind: .unknown, cpuNanoseconds: nil)
        }
        // Three threads with interleaved times, each longer than one block.
        let perThread = (0..<3).map { thread in
            (0..<10_000).map { i in
                TraceEvent(time: UInt64(i * 30 + thread * 7), thread: thread,
                           kind: i % 2 == 0 ? .lockAcquire(lock: 0, flags: []) : .lockRelease(lock: 0, flags: []))
            }
        }
        let path = try writeTemporaryTrace((tables, perThread))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (events, warnings) = readAll(try TraceFile(path: path))
        #expect(warnings.isEmpty)
        #expect(events.count == 30_000)
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.time <= $1.time })
        #expect(events.filter { $0.thread == 2 } == perThread[2])
    }

    @Test func lockEventsAreCompact() throws {
        var (tables, _) = sampleTrace()
        tables.threads = [tables.threads[0]]
        // A tight lock/unlock loop: 20–40 ns apart.
        var time: UInt64 = 0
        let events = (0..<100_000).map { i -> TraceEvent in
            time += UInt64(20 + i % 21)
            return TraceEvent(time: time, thread: 0, kind: i % 2 == 0 ? .lockAcquire(lock: 0, flags: []) : .lockRelease(lock: 0, flags: []))
        }
        let path = NSTemporaryDirectory() + "gtrace-compact-\(UUID().uuidString).data"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let written = try TraceFileWriter.write(path: path, tables: tables, eventsByThread: [events])
        #expect(Double(written.bytes) / Double(written.events) <= 6.0)
    }

    @Test func unknownRecordKindsAreSkipped() throws {
        let path = try writeTemporaryTrace()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let original = try TraceFile(path: path)
        let (expectedEvents, _) = readAll(original)
        // Insert a record of unknown kind 99 right after the header.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var record = ByteWriter()
        record.byte(99)
        record.varint(3)
        record.append([1, 2, 3])
        let crc = record.bytes.withUnsafeBytes { gtrace_crc32(0, $0.baseAddress, $0.count) }
        record.uint32LE(crc)
        bytes.insert(contentsOf: record.bytes, at: 16)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let file = try TraceFile(path: path)
        #expect(file.tables == original.tables)
        let (events, warnings) = readAll(file)
        #expect(warnings.isEmpty)
        #expect(events == expectedEvents)
    }
}

import CGtraceFormat
