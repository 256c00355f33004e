import GtraceFormat

/// Cuts one thread's time-ordered events into blocks as they arrive,
/// merging in a few extra events (thread names set by other threads), and
/// hands each block to the session's encoder.
struct BlockCutter {
    let thread: Int
    private let encoder: BlockEncoder
    private var extra: [TraceEvent]
    private var nextExtra = 0
    private var pending: [TraceEvent] = []

    init(thread: Int, interleaving extra: [TraceEvent], encoder: BlockEncoder) {
        self.thread = thread
        self.extra = extra
        self.encoder = encoder
        pending.reserveCapacity(TraceFileWriter.maximumEventsPerBlock)
    }

    mutating func append(_ event: TraceEvent) {
        while nextExtra < extra.count, extra[nextExtra].time <= event.time {
            push(extra[nextExtra])
            nextExtra += 1
        }
        push(event)
    }

    /// The rest of the thread's events (the encoder's `finish()` returns the blocks).
    mutating func finish() {
        while nextExtra < extra.count {
            push(extra[nextExtra])
            nextExtra += 1
        }
        flush()
    }

    private mutating func push(_ event: TraceEvent) {
        pending.append(event)
        if pending.count == TraceFileWriter.maximumEventsPerBlock { flush() }
    }

    private mutating func flush() {
        encoder.add(thread: thread, events: pending)
        if encoder.keepsArrays {
            pending = []
            pending.reserveCapacity(TraceFileWriter.maximumEventsPerBlock)
        } else {
            pending.removeAll(keepingCapacity: true)
        }
    }
}
