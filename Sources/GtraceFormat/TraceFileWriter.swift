import CGtraceFormat

/// Writes a format-v1 trace: header, tables, then event blocks in order of
/// their first event's time, then END. Call `writeTables` once, `writeBlock`
/// per block, then `finish`.
public final class TraceFileWriter {
    private let output: FileOutput
    private var stringIDs: [String: Int] = [:]
    private var strings: [String] = []
    public private(set) var eventCount = 0
    public private(set) var blockCount = 0
    private var tablesWritten = false

    /// At most this many events go in one block (bounds a reader's memory per thread).
    public static let maximumEventsPerBlock = 4096

    public init(path: String) throws {
        output = try FileOutput(path: path, privateFile: true)
    }

    public var bytesWritten: Int { output.bytesWritten }

    /// The id a string will have in the trace (the tables assign them in order).
    public func intern(_ s: String) -> Int {
        if let id = stringIDs[s] { return id }
        let id = strings.count
        strings.append(s)
        stringIDs[s] = id
        return id
    }

    /// Writes the header and all tables. Strings referenced by events (thread
    /// names) must have been interned before this call.
    public func writeTables(_ tables: TraceTables) throws {
        precondition(!tablesWritten, "tables are written once")
        tablesWritten = true
        var header = ByteWriter()
        header.append(Array(GTRACE_FILE_MAGIC.utf8).prefix(Int(GTRACE_FILE_MAGIC_SIZE)).map { $0 })
        header.uint16LE(UInt16(GTRACE_FILE_VERSION))
        header.uint16LE(tables.features)
        header.uint32LE(header.bytes.withUnsafeBytes { gtrace_crc32(0, $0.baseAddress, $0.count) })
        try output.write(header.bytes)

        let processes = tables.processes.map { TableCodec.encodeProcess($0, intern: intern) }
        let threads = tables.threads.map { TableCodec.encodeThread($0, intern: intern) }
        try record(GTRACE_REC_INFO, TableCodec.encodeInfo(tables.info))
        try record(GTRACE_REC_CLOCK, TableCodec.encodeClock(tables.clock))
        for (id, s) in strings.enumerated() { try record(GTRACE_REC_STRING, TableCodec.encodeString(id: id, s)) }
        for p in processes { try record(GTRACE_REC_PROCESS, p) }
        for t in threads { try record(GTRACE_REC_THREAD, t) }
        for l in tables.locks { try record(GTRACE_REC_LOCK, TableCodec.encodeLock(l)) }
        for g in tables.gils { try record(GTRACE_REC_GIL, TableCodec.encodeGIL(g)) }
        for n in tables.lockNames { try record(GTRACE_REC_SYMBOL, TableCodec.encodeLockName(n)) }
        for c in tables.callSites { try record(GTRACE_REC_SYMBOL, TableCodec.encodeCallSite(c)) }
        for c in tables.pythonCodes { try record(GTRACE_REC_PYTHON, TableCodec.encodePythonCode(c)) }
    }

    /// Writes one block of `events` of a single thread, which must be in time
    /// order and no more than `maximumEventsPerBlock`.
    public func writeBlock(thread: Int, events: ArraySlice<TraceEvent>) throws {
        guard let block = EncodedBlock(thread: thread, events: events) else { return }
        try write(block)
    }

    /// Writes a block encoded earlier (blocks must come in order of `firstTime`).
    public func write(_ block: EncodedBlock) throws {
        try record(GTRACE_REC_EVENTS, block.payload)
        eventCount += block.eventCount
        blockCount += 1
    }

    /// Writes END and flushes.
    public func finish() throws {
        var w = ByteWriter()
        w.varint(eventCount)
        w.varint(blockCount)
        try record(GTRACE_REC_END, w.bytes)
        try output.close()
    }

    private func record(_ kind: gtrace_record_kind, _ payload: [UInt8]) throws {
        var w = ByteWriter(capacity: payload.count + 16)
        w.byte(UInt8(kind.rawValue))
        w.varint(payload.count)
        w.append(payload)
        let crc = w.bytes.withUnsafeBytes { gtrace_crc32(0, $0.baseAddress, $0.count) }
        w.uint32LE(crc)
        try output.write(w.bytes)
    }
}

/// One EVENTS record's payload, encoded ahead of writing so a recorder can
/// keep events compact in memory while it sorts blocks by time.
public struct EncodedBlock: Sendable {
    public let thread: Int
    public let firstTime: UInt64
    public let eventCount: Int
    public let payload: [UInt8]

    /// Encodes `events` (one thread's, in time order); nil when empty.
    public init?(thread: Int, events: ArraySlice<TraceEvent>) {
        guard let first = events.first else { return nil }
        self.thread = thread
        firstTime = first.time
        eventCount = events.count
        payload = EventCodec.blockPayload(thread: thread, events: events)
    }

    /// Cuts one thread's events (in time order) into blocks of at most `TraceFileWriter.maximumEventsPerBlock`.
    public static func blocks(thread: Int, events: [TraceEvent]) -> [EncodedBlock] {
        stride(from: 0, to: events.count, by: TraceFileWriter.maximumEventsPerBlock).compactMap { start in
            EncodedBlock(thread: thread, events: events[start..<min(events.count, start + TraceFileWriter.maximumEventsPerBlock)])
        }
    }

    /// Orders blocks for writing: by first event time, then thread.
    public static func writeOrder(_ a: EncodedBlock, _ b: EncodedBlock) -> Bool {
        (a.firstTime, a.thread) < (b.firstTime, b.thread)
    }
}

extension TraceFileWriter {
    /// Writes a whole trace from tables and per-thread event lists (each in time
    /// order). Blocks are cut per thread and written in order of first event time.
    public static func write(path: String, tables: TraceTables, eventsByThread: [[TraceEvent]]) throws -> (events: Int, bytes: Int) {
        let writer = try TraceFileWriter(path: path)
        for s in tables.strings { _ = writer.intern(s) }
        try writer.writeTables(tables)
        let blocks = eventsByThread.enumerated()
            .flatMap { EncodedBlock.blocks(thread: $0.offset, events: $0.element) }
            .sorted(by: EncodedBlock.writeOrder)
        for block in blocks { try writer.write(block) }
        try writer.finish()
        return (writer.eventCount, writer.bytesWritten)
    }
}
