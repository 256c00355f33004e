import Foundation

/// A bounded queue of batches from one thread to another: the two halves of
/// a per-event pass share the machine's cores. Items travel in batches (one
/// lock round-trip per batch, not per item); at most `depth` batches wait, so
/// memory stays bounded when the receiver is the slower half. Generic code
/// across modules is not specialised, so callers fill their own batches.
public final class BatchQueue<Item>: @unchecked Sendable {
    private let depth: Int
    private var queued: [[Item]] = []
    private var closed = false
    private let condition = NSCondition()

    public init(depth: Int = 4) {
        self.depth = max(1, depth)
    }

    /// Queues one batch (sender only); waits while `depth` batches are queued.
    public func send(_ batch: [Item]) {
        guard !batch.isEmpty else { return }
        condition.lock()
        while queued.count >= depth { condition.wait() }
        queued.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    /// No more batches will be sent.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch in order, or nil once the queue is closed and empty (receiver only).
    public func next() -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        while queued.isEmpty && !closed { condition.wait() }
        if queued.isEmpty { return nil }
        let batch = queued.removeFirst()
        condition.broadcast()
        return batch
    }
}

/// Work started on a thread of its own; `join()` waits for it to end and
/// orders its writes before whatever the joining thread reads next.
public struct BackgroundWork: Sendable {
    private let done = DispatchSemaphore(value: 0)

    public init(_ body: @escaping @Sendable () -> Void) {
        let done = self.done
        Thread {
            body()
            done.signal()
        }.start()
    }

    public func join() {
        done.wait()
    }
}
