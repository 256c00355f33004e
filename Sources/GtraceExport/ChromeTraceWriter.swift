import GtraceAnalysis
import GtraceFormat

/// Writes Chrome Trace Event JSON (`{"traceEvents": [...]}`) in one streaming
/// pass: the serializer of the shared `TrackModel` (process/thread metadata,
/// `X` slices, instants, `s`/`f` flow pairs and `C` counters). Times are µs
/// with ns precision; pids and tids are the OS ids, extra tracks have the ids
/// `TrackRef` gives them. Output is deterministic for a given trace.
public final class ChromeTraceWriter {
    private let file: TraceFile
    private let output: FileOutput
    private let sink: ChromeJSONSink
    private let filter: ChromeExportFilter
    public private(set) var sliceCount = 0

    public init(file: TraceFile, output: FileOutput, filter: ChromeExportFilter = .everything) {
        self.file = file
        self.output = output
        self.filter = filter
        sink = ChromeJSONSink(tables: file.tables, events: JSONEventWriter(output: output, maximumEvents: filter.maxEvents))
    }

    /// JSON events left out by `filter.maxEvents`, and those written.
    public var droppedEvents: Int { sink.events.droppedCount }
    public var writtenEvents: Int { sink.events.eventCount }

    /// Writes the whole document and returns the warnings met while reading.
    public func write() throws -> [String] {
        try output.write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")
        let model = TrackModel(file: file, sink: sink, filter: filter)
        let warnings = try model.run()
        sliceCount = model.sliceCount
        try sink.events.flush()
        try output.write("\n]}\n")
        try output.flush()
        return warnings
    }

    /// Processes in tree order: each one followed by its children, by start time.
    static func treeOrder(_ processes: [GtraceFormat.ProcessInfo]) -> [Int] { TrackModel.treeOrder(processes) }
}

/// The Chrome JSON encoding of the track model.
final class ChromeJSONSink: TrackSink {
    let events: JSONEventWriter
    private let tables: TraceTables
    /// Escaped names written again and again: per thread, per lock address.
    @exclusivity(unchecked) private var threadNames: [[UInt8]?]
    /// Lock addresses as ASCII hex ("0x55…"), and lock labels (the symbol name, else the address) as JSON string contents.
    @exclusivity(unchecked) private var lockAddresses: [[UInt8]?]
    @exclusivity(unchecked) private var lockLabels: [[UInt8]?]

    init(tables: TraceTables, events: JSONEventWriter) {
        self.tables = tables
        self.events = events
        threadNames = Array(repeating: nil, count: tables.threads.count)
        lockAddresses = Array(repeating: nil, count: tables.locks.count)
        lockLabels = Array(repeating: nil, count: tables.locks.count)
    }

    private func threadName(_ thread: Int) -> [UInt8] {
        if let cached = threadNames[thread] { return cached }
        let t = tables.threads[thread]
        let name = JSONText.encoded(t.name.isEmpty ? "thread \(t.tid)" : t.name)
        threadNames[thread] = name
        return name
    }

    private func lockAddress(_ lock: Int) -> [UInt8] {
        if let cached = lockAddresses[lock] { return cached }
        let address = Array(tables.locks[lock].addressText.utf8)
        lockAddresses[lock] = address
        return address
    }

    /// The lock's name from the trace's symbols (escaped, without quotes), else its address.
    private func lockLabel(_ lock: Int) -> [UInt8] {
        if let cached = lockLabels[lock] { return cached }
        var label = lockAddress(lock)
        if let name = tables.lockNames.first(where: { $0.lock == lock })?.name {
            label = Array(JSONText.encoded(name).dropFirst().dropLast())
        }
        lockLabels[lock] = label
        return label
    }

    private static func text(_ s: StaticString) -> String { s.withUTF8Buffer { String(decoding: $0, as: UTF8.self) } }

    private static func arguments(_ args: [TrackArg]) -> String {
        args.map { arg in
            let value: String
            switch arg.value {
            case let .int(v): value = "\(v)"
            case let .string(s): value = JSONText.string(s)
            case let .bool(b): value = b ? "true" : "false"
            }
            return "\"\(text(arg.key))\":\(value)"
        }.joined(separator: ",")
    }

    func process(_ p: GtraceFormat.ProcessInfo, name: String, sortIndex: Int) throws {
        try events.object("{\"ph\":\"M\",\"pid\":\(p.pid),\"tid\":\(p.pid),\"name\":\"process_name\",\"args\":{\"name\":\(JSONText.string(name))}}")
        try events.object("{\"ph\":\"M\",\"pid\":\(p.pid),\"tid\":\(p.pid),\"name\":\"process_sort_index\",\"args\":{\"sort_index\":\(sortIndex)}}")
    }

    func track(_ track: TrackRef, name: String, sortIndex: Int?) throws {
        try events.object("{\"ph\":\"M\",\"pid\":\(track.pid),\"tid\":\(track.id),\"name\":\"thread_name\",\"args\":{\"name\":\(JSONText.string(name))}}")
        if let sortIndex {
            try events.object("{\"ph\":\"M\",\"pid\":\(track.pid),\"tid\":\(track.id),\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":\(sortIndex)}}")
        }
    }

    func instant(_ track: TrackRef, time: UInt64, name: String, processScope: Bool, args: [TrackArg]) throws {
        let scope = processScope ? "p" : "t"
        let argText = args.isEmpty ? "" : ",\"args\":{\(Self.arguments(args))}"
        try events.object("{\"ph\":\"i\",\"s\":\"\(scope)\",\"pid\":\(track.pid),\"tid\":\(track.id),\"ts\":\(JSONText.microseconds(time)),\"name\":\(JSONText.string(name))\(argText)}")
    }

    func slice(_ track: TrackRef, start: UInt64, end: UInt64, name: String, category: StaticString, args: [TrackArg]) throws {
        try events.object("{\"ph\":\"X\",\"pid\":\(track.pid),\"tid\":\(track.id),\"ts\":\(JSONText.microseconds(start)),\"dur\":\(JSONText.microseconds(end - start)),\"name\":\(JSONText.string(name)),\"cat\":\"\(Self.text(category))\",\"args\":{\(Self.arguments(args))}}")
    }

    func lockSlice(_ track: TrackRef, start: UInt64, end: UInt64, interval: LockInterval,
                   prefix: StaticString, category: StaticString, labelled: Bool, counter: (start: Int?, end: Int?)?,
                   askedAt: [UInt8]?) throws {
        let address = lockAddress(interval.lock)
        events.begin()
        completeSliceHead(track, start: start, end: end)
        events.raw(",\"name\":\"")
        events.raw(prefix)
        if labelled { events.encoded(lockLabel(interval.lock)) }
        events.raw("\",\"cat\":\"")
        events.raw(category)
        events.raw("\",\"args\":{\"lock\":\"")
        events.encoded(address)
        // As before the shared model: a lock never labelled (the GIL) keeps only its address.
        if lockLabels[interval.lock].map({ $0 != address }) ?? false {
            events.raw("\",\"lock_name\":\"")
            events.encoded(lockLabel(interval.lock))
        }
        events.raw("\",\"duration_ns\":")
        events.uint(interval.duration)
        if let askedAt {
            events.raw(",\"python_asked_at\":\"")
            events.encoded(askedAt)
            events.raw("\"")
        }
        if interval.closedByEnd { events.raw(",\"open_at_end\":true") }
        events.raw("}")
        try events.end()
    }

    /// The start of a complete ("X") slice on `track`: phase, pid, tid, ts, dur.
    private func completeSliceHead(_ track: TrackRef, start: UInt64, end: UInt64) {
        events.raw("\"ph\":\"X\",\"pid\":")
        events.int(Int64(track.pid))
        events.raw(",\"tid\":")
        events.int(track.id)
        events.raw(",\"ts\":")
        events.microseconds(start)
        events.raw(",\"dur\":")
        events.microseconds(end - start)
    }

    func gilHold(_ track: TrackRef, start: UInt64, end: UInt64, thread: Int, acquiredAt: [UInt8]?, releasedAt: [UInt8]?) throws {
        events.begin()
        completeSliceHead(track, start: start, end: end)
        events.raw(",\"name\":")
        events.encoded(threadName(thread))
        events.raw(",\"cat\":\"gil\",\"args\":{\"tid\":")
        events.int(Int64(tables.threads[thread].tid))
        events.raw(",\"duration_ns\":")
        events.uint(end - start)
        if let acquiredAt {
            events.raw(",\"python_acquired_at\":\"")
            events.encoded(acquiredAt)
            events.raw("\"")
        }
        if let releasedAt {
            events.raw(",\"python_released_at\":\"")
            events.encoded(releasedAt)
            events.raw("\"")
        }
        events.raw("}")
        try events.end()
    }

    func flow(id: Int, name: StaticString, category: StaticString, from: TrackRef, at fromTime: UInt64,
              to: TrackRef, at toTime: UInt64) throws {
        let name = Self.text(name), category = Self.text(category)
        try events.object("{\"ph\":\"s\",\"pid\":\(from.pid),\"tid\":\(from.id),\"ts\":\(JSONText.microseconds(fromTime)),\"id\":\(id),\"name\":\"\(name)\",\"cat\":\"\(category)\"}")
        try events.object("{\"ph\":\"f\",\"bp\":\"e\",\"pid\":\(to.pid),\"tid\":\(to.id),\"ts\":\(JSONText.microseconds(toTime)),\"id\":\(id),\"name\":\"\(name)\",\"cat\":\"\(category)\"}")
    }

    func counter(pid: Int32, name: StaticString, key: StaticString, time: UInt64, value: Int, onSlice: Bool) throws {
        try events.object("{\"ph\":\"C\",\"pid\":\(pid),\"tid\":\(pid),\"ts\":\(JSONText.microseconds(time)),\"name\":\"\(Self.text(name))\",\"args\":{\"\(Self.text(key))\":\(value)}}")
    }
}
