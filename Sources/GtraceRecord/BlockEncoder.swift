import GtraceFormat

/// Encodes the blocks BlockCutter cuts, keeping the order they are cut in:
/// inline, or, for a large session, on a second thread while the calling
/// thread converts the next records (encoding is about a quarter of a
/// merge). The blocks are the same either way (BlockCutterTests).
final class BlockEncoder: @unchecked Sendable {
    /// Sessions with at least this many raw records encode on a second thread.
    static let secondThreadMinimumRecords = 1 << 18

    struct Pending {
        let thread: Int
        let events: [TraceEvent]
    }

    private let queue: BatchQueue<Pending>?
    private var work: BackgroundWork?
    /// Written by the encoding thread until `finish()`.
    private var blocks: [EncodedBlock] = []

    init(secondThread: Bool) {
        queue = secondThread ? BatchQueue<Pending>(depth: 8) : nil
        if let queue {
            work = BackgroundWork { [self] in
                while let batch = queue.next() {
                    for pending in batch { encode(pending) }
                }
            }
        }
    }

    /// True when `add` hands the array to the other thread (the caller then needs a new one).
    var keepsArrays: Bool { queue != nil }

    /// One block's events (one thread's, in time order).
    func add(thread: Int, events: [TraceEvent]) {
        guard !events.isEmpty else { return }
        if let queue {
            queue.send([Pending(thread: thread, events: events)])
        } else {
            encode(Pending(thread: thread, events: events))
        }
    }

    private func encode(_ pending: Pending) {
        if let block = EncodedBlock(thread: pending.thread, events: pending.events[...]) { blocks.append(block) }
    }

    /// Every block added, in the order added.
    func finish() -> [EncodedBlock] {
        queue?.close()
        work?.join()
        work = nil
        return blocks
    }
}
