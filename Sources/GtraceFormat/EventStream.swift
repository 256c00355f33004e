import CGtraceFormat

/// A time-ordered pass over a trace's events: a k-way merge of the per-thread
/// blocks, which the writer stores in order of their first event. Holds at
/// most one block per thread. Problems found on the way (a truncated or
/// corrupt tail) end the stream early and are listed in `warnings`.
public struct EventStream: IteratorProtocol, Sequence {
    private let file: TraceFile
    private var scanner: RecordScanner
    private var pending: BlockCursor? {
        didSet { (pendingTime, pendingHasEvent) = (pending?.time ?? 0, pending?.hasEvent ?? false) }
    }
    /// `pending`'s first event time and whether it has one, kept apart: reading
    /// them through the optional copied the whole cursor on every event.
    private var pendingTime: UInt64 = 0
    private var pendingHasEvent = false
    private var active: [BlockCursor] = []  // binary min-heap by (time, sequence)
    private var blockSequence = 0
    private var finished = false
    private let limits: EventCodec.Limits

    /// Problems met so far, each one line naming the byte offset.
    public private(set) var warnings: [String] = []
    /// Events returned so far.
    public private(set) var eventCount = 0
    /// Totals from the END record, once reached.
    public private(set) var declaredEventCount: Int?
    /// The END record's count of EVENTS records, once reached.
    public private(set) var declaredBlockCount: Int?
    private var endChecked = false
    private var endOffset = 0

    init(file: TraceFile) {
        self.file = file
        scanner = RecordScanner(bytes: file.file.bytes, position: file.eventsOffset)
        limits = EventCodec.Limits(locks: file.tables.locks.count, threads: file.tables.threads.count,
                                   strings: file.tables.strings.count, pythonCodes: file.tables.pythonCodes.count)
        pending = nextBlock()
        (pendingTime, pendingHasEvent) = (pending?.time ?? 0, pending?.hasEvent ?? false)  // no didSet in init
    }

    public mutating func next() -> TraceEvent? {
        // Fields read in place, the cursor moved out only when it joins the heap.
        while pending != nil, active.isEmpty || pendingTime <= active[0].time || !pendingHasEvent {
            let hasEvent = pendingHasEvent
            let block = pending.take()!
            pending = nextBlock()
            if hasEvent { push(block) }
        }
        guard !active.isEmpty else {
            checkTotals()
            return nil
        }
        // The top cursor advances in place: a copy out and back of a cursor
        // (its current event kind) was ~10% of a report's time.
        let event = TraceEvent(time: active[0].time, thread: active[0].thread, kind: active[0].kind)
        let recordOffset = active[0].recordOffset
        eventCount += 1
        do {
            if try active[0].advance(limits: limits) {
                siftDown(0)
            } else {
                removeTop()
            }
        } catch let error as DecodeError {
            warnings.append("\(file.path): corrupt event in EVENTS record at byte \(recordOffset): \(error.reason); rest of that block skipped")
            removeTop()
        } catch {
            removeTop()
        }
        return event
    }

    /// Reads the next EVENTS record, skipping other kinds; nil at the end.
    private mutating func nextBlock() -> BlockCursor? {
        while !finished {
            let offset = scanner.position
            do {
                guard let record = try scanner.peek() else {
                    finished = true
                    if declaredEventCount == nil {
                        warnings.append("\(file.path): truncated at byte \(offset): the END record is missing; every complete event before that byte was read")
                    }
                    return nil
                }
                scanner.advance(past: record)
                switch UInt32(record.kind) {
                case GTRACE_REC_EVENTS.rawValue:
                    var cursor = try BlockCursor(bytes: file.file.bytes, payload: record.payload, recordOffset: offset,
                                                 sequence: blockSequence, limits: limits)
                    blockSequence += 1
                    if !(try cursor.advance(limits: limits)) { cursor.hasEvent = false }
                    return cursor
                case GTRACE_REC_END.rawValue:
                    var r = ByteReader(UnsafeRawBufferPointer(rebasing: file.file.bytes[record.payload]))
                    declaredEventCount = Int(clamping: try r.varint())
                    declaredBlockCount = r.isAtEnd ? nil : Int(clamping: try r.varint())
                    endOffset = offset
                    finished = true
                    return nil
                default:
                    continue
                }
            } catch let error as RecordScanner.ScanError {
                finished = true
                switch error {
                case let .truncated(reason):
                    warnings.append("\(file.path): truncated at byte \(offset): \(reason); the rest of the trace is missing (END record not reached)")
                case let .corrupt(reason):
                    warnings.append("\(file.path): corrupt record at byte \(offset): \(reason); events after it are not read")
                }
            } catch let error as DecodeError {
                warnings.append("\(file.path): corrupt EVENTS record at byte \(offset): \(error.reason); block skipped")
            } catch {
                finished = true
            }
        }
        return nil
    }

    /// At the end of a stream that reached the END record: the events and
    /// EVENTS records read must be the ones the writer counted. Records
    /// dropped, duplicated or added (each with a valid CRC) are caught here.
    private mutating func checkTotals() {
        // After another warning (a corrupt block skipped), the totals differ for a reason already given.
        guard !endChecked, finished, warnings.isEmpty, let declared = declaredEventCount else { return }
        endChecked = true
        let blocksDiffer = declaredBlockCount.map { $0 != blockSequence } ?? false
        guard declared != eventCount || blocksDiffer else { return }
        let blocks = declaredBlockCount.map { " in \($0) EVENTS records" } ?? ""
        warnings.append("\(file.path): the END record at byte \(endOffset) declares \(declared) events\(blocks), but \(eventCount) events in \(blockSequence) EVENTS records were read: "
                        + "records were lost, duplicated or added; the numbers of this report are not those of the recording")
    }

    // MARK: heap

    private mutating func push(_ block: BlockCursor) {
        active.append(block)
        var i = active.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard precedes(i, parent) else { break }
            active.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func removeTop() {
        let last = active.removeLast()
        if !active.isEmpty {
            active[0] = last
            siftDown(0)
        }
    }

    /// Heap order by (time, block sequence), reading the two cursors' fields in
    /// place (passing cursors by value copied them, their event kind included).
    private func precedes(_ i: Int, _ j: Int) -> Bool {
        let a = active[i].time, b = active[j].time
        return a != b ? a < b : active[i].sequence < active[j].sequence
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let left = 2 * i + 1, right = left + 1
            var smallest = i
            if left < active.count && precedes(left, smallest) { smallest = left }
            if right < active.count && precedes(right, smallest) { smallest = right }
            if smallest == i { return }
            active.swapAt(i, smallest)
            i = smallest
        }
    }
}

/// Decoding position inside one EVENTS block; `time`/`kind` is its current event.
struct BlockCursor {
    let thread: Int
    let sequence: Int
    let recordOffset: Int
    private var reader: ByteReader
    private var remainingEvents: Int
    private(set) var time: UInt64
    private(set) var kind: EventKind = .processStart
    var hasEvent = true

    init(bytes: UnsafeRawBufferPointer, payload: Range<Int>, recordOffset: Int, sequence: Int,
         limits: EventCodec.Limits) throws {
        reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[payload]))
        thread = try reader.count(limit: limits.threads - 1, "thread index")
        time = try reader.varint()
        remainingEvents = try reader.count(limit: reader.remaining, "event count")
        self.recordOffset = recordOffset
        self.sequence = sequence
    }

    /// Decodes the next event; false when the block is exhausted.
    mutating func advance(limits: EventCodec.Limits) throws -> Bool {
        guard remainingEvents > 0 else { return false }
        remainingEvents -= 1
        let (delta, kind) = try EventCodec.decode(&reader, limits: limits)
        let (sum, overflow) = time.addingReportingOverflow(delta)
        if overflow { throw DecodeError(reason: "event time overflows") }
        time = sum
        self.kind = kind
        return true
    }
}
