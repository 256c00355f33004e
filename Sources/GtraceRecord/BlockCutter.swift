import GtraceFormat

/// Cuts one thread's time-ordered events into encoded blocks as they arrive,
/// merging in a few extra events (thread names set by other threads).
struct BlockCutter {
    let thread: Int
    private var extra: [TraceEvent]
    private var nextExtra = 0
    private var pending: [TraceEvent] = []
    private var blocks: [EncodedBlock] = []

    init(thread: Int, interleaving extra: [TraceEvent]) {
        self.thread = thread
        self.extra = extra
        pending.reserveCapacity(TraceFileWriter.maximumEventsPerBlock)
    }

    mutating func append(_ event: TraceEvent) {
        while nextExtra < extra.count, extra[nextExtra].time <= event.time {
            push(extra[nextExtra])
            nextExtra += 1
        }
        push(event)
    }

    mutating func finish() -> [EncodedBlock] {
        while nextExtra < extra.count {
            push(extra[nextExtra])
            nextExtra += 1
        }
        flush()
        return blocks
    }

    private mutating func push(_ event: TraceEvent) {
        pending.append(event)
        if pending.count == TraceFileWriter.maximumEventsPerBlock { flush() }
    }

    private mutating func flush() {
        if let block = EncodedBlock(thread: thread, events: pending[...]) { blocks.append(block) }
        pending.removeAll(keepingCapacity: true)
    }
}
