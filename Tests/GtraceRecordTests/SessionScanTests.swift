import CGtraceFormat
import Foundation
import GtraceFormat
import Testing
@testable import GtraceRecord

/// The merge scans a large session on two threads, each over a run of the
/// threads, and adds the later run's scan to the earlier's: that must find
/// what one scan of all threads finds, wherever the cut falls, for records
/// whose first (lock first use, exit), last (start, reaped status, GIL info
/// of equal timestamps) or every occurrence (names, counters) decides.
@Suite struct SessionScanTests {
    static func record(_ kind: gtrace_raw_kind, at tsc: UInt64, flags: UInt16 = 0, u32: UInt32 = 0,
                       addr: UInt64 = 0, arg: UInt64 = 0) -> gtrace_raw_record {
        gtrace_raw_record(tsc: tsc, kind: UInt16(kind.rawValue), flags: flags, u32: u32, addr: addr, arg: arg)
    }

    /// Writes one chunk file of `records` and maps it.
    static func chunk(_ records: [gtrace_raw_record], in dir: String, name: String) throws -> MappedFile {
        var header = gtrace_buffer_header()
        header.version = GTRACE_BUFFER_VERSION
        header.record_size = 32
        header.capacity = UInt64(records.count)
        header.reserved = UInt64(records.count)
        var bytes = Data(bytes: &header, count: MemoryLayout<gtrace_buffer_header>.size)
        for var r in records { bytes.append(Data(bytes: &r, count: MemoryLayout<gtrace_raw_record>.size)) }
        let path = "\(dir)/\(name)"
        try bytes.write(to: URL(fileURLWithPath: path))
        return try MappedFile(path: path)
    }

    /// "qualname\0file\0" in PY_TEXT records after a PY_CODE.
    static func code(_ address: UInt64, at tsc: UInt64, name: String) -> [gtrace_raw_record] {
        var text = Array("\(name)\0app.py\0".utf8)
        while text.count % 16 != 0 { text.append(0) }
        func word(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(text[at + $1]) << (8 * UInt64($1)) } }
        var records = [record(GTRACE_RAW_PY_CODE, at: tsc, flags: UInt16(text.count / 16), u32: 3, addr: address, arg: 1)]
        for i in 0..<(text.count / 16) {
            records.append(record(GTRACE_RAW_PY_TEXT, at: tsc, flags: UInt16(i), addr: word(16 * i), arg: word(16 * i + 8)))
        }
        return records
    }

    static func session(in dir: String) throws -> SessionContents {
        let a = SessionContents.ImageKey(pid: 10, image: 0), b = SessionContents.ImageKey(pid: 20, image: 0)
        let name = UInt64(0x3177), other = UInt64(0x3277)  // "w1", "w2"
        let threads: [(SessionContents.ImageKey, Int32, [gtrace_raw_record])] = [
            (a, 10, [record(GTRACE_RAW_PROCESS_START, at: 50), record(GTRACE_RAW_CLOCK_SYNC, at: 51, addr: 1_000_051),
                     record(GTRACE_RAW_THREAD_NAME, at: 52, u32: 11, addr: name),
                     record(GTRACE_RAW_LOCK_ACQUIRE, at: 60, addr: 0x100), record(GTRACE_RAW_LOCK_RELEASE, at: 61, addr: 0x100),
                     record(GTRACE_RAW_GIL_INFO, at: 70, flags: 1, u32: 0x30b, addr: 0x900),
                     record(GTRACE_RAW_GIL_WAIT, at: 72, addr: 0x900),
                     record(GTRACE_RAW_BLOCK_END, at: 80, flags: UInt16(GTRACE_CALL_WAITPID.rawValue), u32: 20, addr: 1)]
                + code(0x500, at: 85, name: "main") + [record(GTRACE_RAW_PY_FRAME, at: 86, u32: 3, addr: 0x500, arg: 1),
                                                       record(GTRACE_RAW_GIL_STATS, at: 90, addr: 7)]),
            (a, 11, [record(GTRACE_RAW_THREAD_START, at: 40, u32: 10), record(GTRACE_RAW_THREAD_NAME, at: 55, u32: 11, addr: other),
                     record(GTRACE_RAW_LOCK_ACQUIRE, at: 45, flags: UInt16(GTRACE_LOCKF_RWLOCK.rawValue), addr: 0x100),
                     record(GTRACE_RAW_GIL_INFO, at: 70, flags: 2, u32: 0x30b, addr: 0x900),
                     record(GTRACE_RAW_GIL_ACQUIRE, at: 65, addr: 0x900),
                     record(GTRACE_RAW_WAKER, at: 81, flags: UInt16(GTRACE_WAKER_REAPED.rawValue), u32: 20, addr: 2)]
                + code(0x500, at: 87, name: "redefined") + code(0x600, at: 88, name: "worker")
                + [record(GTRACE_RAW_GIL_STATS, at: 91, addr: 8), record(GTRACE_RAW_THREAD_END, at: 95)]),
            (b, 20, [record(GTRACE_RAW_PROCESS_START, at: 30), record(GTRACE_RAW_FUTEX_WAIT, at: 35, addr: 0x700),
                     record(GTRACE_RAW_FUTEX_WOKE, at: 33, addr: 0x700),  // out of order: a signal handler's
                     record(GTRACE_RAW_CLOCK_SYNC, at: 36, addr: 1_000_036),
                     record(GTRACE_RAW_SPAWN_FAILED, at: 37, u32: 2, addr: 34),
                     record(GTRACE_RAW_PROCESS_EXIT, at: 99, flags: 1, u32: 3)]),
            (b, 21, [record(GTRACE_RAW_PROCESS_EXIT, at: 98, flags: 1, u32: 4), record(GTRACE_RAW_THREAD_NAME, at: 97, addr: name),
                     record(GTRACE_RAW_COND_WAIT, at: 96, addr: 0x710, arg: 0x720)]),
        ]
        var contents = SessionContents()
        for (i, (image, tid, records)) in threads.enumerated() {
            var thread = SessionContents.ThreadRecords(image: image, tid: tid, chunks: [
                (0, try chunk(Array(records.prefix(4)), in: dir, name: "\(i).0")),
                (1, try chunk(Array(records.dropFirst(4)), in: dir, name: "\(i).1")),
            ])
            if i == 3 { thread.lost = 5 }
            contents.threads.append(thread)
        }
        return contents
    }

    /// A new directory for a test's chunk files (the caller removes it).
    static func directory(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "gtrace-\(name)-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static var identity: TraceBuilder.ThreadClock { TraceBuilder.ThreadClock(fit: ClockFit(pairs: [], timestampsAreTSC: false), epoch: 0) }

    @Test func twoRunsOfThreadsScanAsOne() throws {
        let dir = try Self.directory("scan")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let session = try Self.session(in: dir)
        var whole = SessionScan(session.threads[...])
        whole.resolveTimes(Self.identity)
        let expected = whole.fingerprint
        // The cases the merge rules are for are in this session.
        #expect(expected.contains("256=(time: 60, kind: GtraceFormat.LockKind.mutex)"))  // thread 10's first use, not 11's earlier rwlock
        #expect(whole.imageExit[.init(pid: 20, image: 0)]?.u32 == 3)       // the first exit record
        #expect(whole.gilInfo.values.first?.flags == 2)                     // equal timestamps: the last record
        #expect(whole.reapedByWait[20] == 2)
        #expect(whole.pythonCodes.values.first?.values.map(\.name).sorted() == ["main", "worker"])
        #expect(whole.unordered.count == 3)                                 // threads 11, 20 and 21
        for cut in 1..<session.threads.count {
            var earlier = SessionScan(session.threads[..<cut])
            earlier.append(SessionScan(session.threads[cut...]))
            earlier.resolveTimes(Self.identity)
            #expect(earlier.fingerprint == expected, "cut at thread \(cut)")
        }
        // The scan of the later run on a second thread.
        var two = SessionScan(session: session, threads: 2, minimumRecords: 0)
        two.resolveTimes(Self.identity)
        #expect(two.fingerprint == expected)
    }

    /// The recorder scans the chunks threads completed while the command ran
    /// (LiveScan); the merge continues those scans: the same as one scan. A
    /// live part that does not match the chunks found at the end is ignored.
    @Test func aLiveScanContinuedScansAsOne() throws {
        let dir = try Self.directory("live")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let session = try Self.session(in: dir)
        var whole = SessionScan(session.threads[...])
        whole.resolveTimes(Self.identity)
        var live: [ThreadKey: LiveScan.Part] = [:]
        for (i, thread) in session.threads.enumerated() where i != 2 {  // thread 2: no live part
            let key = ThreadKey(image: thread.image, tid: thread.tid)
            var part = LiveScan.Part(scan: SessionScan(), state: ThreadScanState(key: key))
            part.scan.scan(thread.chunks[0], number: thread.chunkNumbers[0], dropsPages: false, into: &part.state)
            live[key] = part
        }
        for threads in [1, 2] {
            var continued = SessionScan(session: session, threads: threads, live: live, minimumRecords: 0)
            continued.resolveTimes(Self.identity)
            #expect(continued.fingerprint == whole.fingerprint, "\(threads) threads")
        }
        // A part of chunks the session does not start with (chunk 1 alone) is not used.
        let first = session.threads[0]
        let key = ThreadKey(image: first.image, tid: first.tid)
        var stray = LiveScan.Part(scan: SessionScan(), state: ThreadScanState(key: key))
        stray.scan.scan(first.chunks[1], number: first.chunkNumbers[1], dropsPages: false, into: &stray.state)
        var ignoring = SessionScan(session.threads[...], live: [key: stray])
        ignoring.resolveTimes(Self.identity)
        #expect(ignoring.fingerprint == whole.fingerprint)
    }

    /// A large session's chunks leave resident memory after each pass; the next pass reads the same records.
    @Test func droppedPagesReadTheSameRecords() throws {
        let dir = try Self.directory("drop")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let records = (0..<3000).map { Self.record(GTRACE_RAW_LOCK_ACQUIRE, at: UInt64($0), addr: UInt64($0 % 7)) }
        var thread = SessionContents.ThreadRecords(image: .init(pid: 1, image: 0), tid: 1,
                                                   chunks: [(0, try Self.chunk(records, in: dir, name: "0")),
                                                            (1, try Self.chunk(records, in: dir, name: "1"))])
        thread.dropsPages = true
        for _ in 0..<2 {
            var seen: [UInt64] = []
            thread.forEach { seen.append($0.tsc &* 8 &+ $0.addr) }
            #expect(seen == (records + records).map { $0.tsc &* 8 &+ $0.addr })
        }
    }
}
