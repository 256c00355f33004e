import CGtraceFormat

/// An opened trace: its tables are read at once, its events on demand through
/// `events()`, a time-ordered stream that never holds more than one block per
/// thread in memory.
public final class TraceFile: @unchecked Sendable {
    public let path: String
    public let tables: TraceTables
    /// Size of the file in bytes.
    public let size: Int
    let file: MappedFile
    /// Byte offset of the first record after the tables.
    let eventsOffset: Int

    /// Opens and validates `path`, reading everything but the events.
    /// - Throws: `TraceError` naming the file and byte offset of the problem.
    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        size = file.bytes.count
        let bytes = file.bytes
        let magic = Array(GTRACE_FILE_MAGIC.utf8)
        guard bytes.count >= magic.count, zip(bytes.prefix(magic.count), magic).allSatisfy({ $0 == $1 }) else {
            throw TraceError.notATrace(path: path)
        }
        guard bytes.count >= Int(GTRACE_FILE_HEADER_SIZE) else {
            throw TraceError.truncatedHeader(path: path, offset: bytes.count, reason: "file header needs \(GTRACE_FILE_HEADER_SIZE) bytes")
        }
        var header = ByteReader(bytes, position: magic.count)
        var tables = TraceTables()
        do {
            tables.version = Int(try header.uint16LE())
            tables.features = try header.uint16LE()
            let stored = try header.uint32LE()
            guard stored == gtrace_crc32(0, bytes.baseAddress, 12) else {
                throw TraceError.corrupt(path: path, offset: 0, reason: "file header checksum mismatch")
            }
        } catch let error as TraceError {
            throw error
        } catch {
            throw TraceError.truncatedHeader(path: path, offset: bytes.count, reason: "file header incomplete")
        }
        guard tables.version == Int(GTRACE_FILE_VERSION) else {
            throw TraceError.unsupportedVersion(path: path, version: tables.version)
        }
        var scanner = RecordScanner(bytes: bytes, position: Int(GTRACE_FILE_HEADER_SIZE))
        var sawClock = false
        tableLoop: while true {
            let start = scanner.position
            let record: RecordScanner.Record
            do {
                guard let next = try scanner.peek() else {
                    throw TraceError.truncatedHeader(path: path, offset: start, reason: "file ends inside the tables (no events, no END record)")
                }
                record = next
            } catch let error as RecordScanner.ScanError {
                switch error {
                case let .truncated(reason):
                    // Cut inside the first EVENTS (or the END) record: the tables are complete, and the
                    // event stream reports the truncation (docs/FORMAT.md, "Damaged files").
                    let kind = UInt32(bytes[start])
                    if kind == GTRACE_REC_EVENTS.rawValue || kind == GTRACE_REC_END.rawValue { break tableLoop }
                    throw TraceError.truncatedHeader(path: path, offset: start, reason: reason)
                case let .corrupt(reason):
                    throw TraceError.corrupt(path: path, offset: start, reason: reason)
                }
            }
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[record.payload]))
            do {
                switch UInt32(record.kind) {
                case GTRACE_REC_INFO.rawValue: tables.info = try TableCodec.decodeInfo(&r)
                case GTRACE_REC_CLOCK.rawValue:
                    tables.clock = try TableCodec.decodeClock(&r)
                    sawClock = true
                case GTRACE_REC_STRING.rawValue:
                    let id = try r.varint()
                    guard id == UInt64(tables.strings.count) else {
                        throw DecodeError(reason: "string id \(id), expected \(tables.strings.count)")
                    }
                    tables.strings.append(try r.string())
                case GTRACE_REC_PROCESS.rawValue:
                    tables.processes.append(try TableCodec.decodeProcess(&r, strings: tables.strings, index: tables.processes.count))
                case GTRACE_REC_THREAD.rawValue:
                    tables.threads.append(try TableCodec.decodeThread(&r, strings: tables.strings,
                                                                        processCount: tables.processes.count,
                                                                        index: tables.threads.count))
                case GTRACE_REC_LOCK.rawValue:
                    tables.locks.append(try TableCodec.decodeLock(&r, processCount: tables.processes.count, index: tables.locks.count))
                case GTRACE_REC_GIL.rawValue:
                    tables.gils.append(try TableCodec.decodeGIL(&r, processCount: tables.processes.count,
                                                                lockCount: tables.locks.count))
                case GTRACE_REC_SYMBOL.rawValue:
                    try TableCodec.decodeSymbol(&r, lockCount: tables.locks.count, into: &tables)
                case GTRACE_REC_PYTHON.rawValue:
                    try TableCodec.decodePython(&r, processCount: tables.processes.count, into: &tables)
                case GTRACE_REC_EVENTS.rawValue, GTRACE_REC_END.rawValue:
                    break tableLoop
                default:
                    break // unknown record kind: skipped by its length
                }
            } catch let error as DecodeError {
                throw TraceError.corrupt(path: path, offset: start, reason: "\(Self.recordName(record.kind)) record: \(error.reason)")
            }
            scanner.advance(past: record)
        }
        guard sawClock else {
            throw TraceError.corrupt(path: path, offset: scanner.position, reason: "the CLOCK record is missing")
        }
        for process in tables.processes where (process.parent ?? 0) >= tables.processes.count {
            throw TraceError.corrupt(path: path, offset: scanner.position, reason: "process \(process.index) names parent \(process.parent ?? 0) out of range")
        }
        for thread in tables.threads where (thread.creator ?? 0) >= tables.threads.count {
            throw TraceError.corrupt(path: path, offset: scanner.position, reason: "thread \(thread.index) names creator \(thread.creator ?? 0) out of range")
        }
        eventsOffset = scanner.position
        self.tables = tables
    }

    /// A new time-ordered pass over all events.
    public func events() -> EventStream {
        EventStream(file: self)
    }

    static func recordName(_ kind: UInt8) -> String {
        switch UInt32(kind) {
        case GTRACE_REC_INFO.rawValue: return "INFO"
        case GTRACE_REC_CLOCK.rawValue: return "CLOCK"
        case GTRACE_REC_STRING.rawValue: return "STRING"
        case GTRACE_REC_PROCESS.rawValue: return "PROCESS"
        case GTRACE_REC_THREAD.rawValue: return "THREAD"
        case GTRACE_REC_LOCK.rawValue: return "LOCK"
        case GTRACE_REC_EVENTS.rawValue: return "EVENTS"
        case GTRACE_REC_END.rawValue: return "END"
        case GTRACE_REC_GIL.rawValue: return "GIL"
        case GTRACE_REC_SYMBOL.rawValue: return "SYMBOL"
        case GTRACE_REC_PYTHON.rawValue: return "PYTHON"
        default: return "kind-\(kind)"
        }
    }
}

/// Walks the record framing: kind byte, varint length, payload, CRC-32.
struct RecordScanner {
    let bytes: UnsafeRawBufferPointer
    var position: Int

    struct Record {
        let kind: UInt8
        let payload: Range<Int>
        let end: Int
    }

    enum ScanError: Error {
        case truncated(String)
        case corrupt(String)
    }

    /// The record at `position`, or nil at a clean end of file.
    func peek() throws -> Record? {
        guard position < bytes.count else { return nil }
        var r = ByteReader(bytes, position: position)
        let kind: UInt8
        let length: UInt64
        do {
            kind = try r.byte()
            length = try r.varint()
        } catch {
            throw ScanError.truncated("record header incomplete")
        }
        guard length <= UInt64(Int32.max) else { throw ScanError.corrupt("record length \(length) is implausible") }
        let payloadStart = r.position
        let payloadEnd = payloadStart + Int(length)
        guard payloadEnd + 4 <= bytes.count else {
            throw ScanError.truncated("\(TraceFile.recordName(kind)) record needs \(payloadEnd + 4 - position) bytes, \(bytes.count - position) present")
        }
        var crcReader = ByteReader(bytes, position: payloadEnd)
        let stored = try crcReader.uint32LE()
        let computed = gtrace_crc32(0, bytes.baseAddress! + position, payloadEnd - position)
        guard stored == computed else { throw ScanError.corrupt("\(TraceFile.recordName(kind)) record checksum mismatch") }
        return Record(kind: kind, payload: payloadStart..<payloadEnd, end: payloadEnd + 4)
    }

    mutating func advance(past record: Record) { position = record.end }
}
