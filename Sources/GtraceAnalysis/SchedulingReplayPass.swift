import GtraceFormat

/// The scheduling and replay half of the report's single pass over the
/// events. It needs nothing from the lock half (the lock holds of the thread
/// timeline are summed apart and added at the end), so on a large trace this
/// half decodes the events and consumes them on a second thread, and hands
/// them in batches to the lock half on the calling thread. The results are
/// the same either way: each half sees every event in the same order
/// (SecondThreadTests).
final class SchedulingReplayPass: @unchecked Sendable {
    /// Traces at least this large (bytes of the file) use the second thread.
    static let parallelMinimumBytes = 1 << 20
    static let batchSize = 4096

    var scheduling: SchedulingAccumulator
    var replay: ReplayBuilder
    /// Of the event stream, once `Events.finish()` returns.
    fileprivate(set) var eventCount = 0
    fileprivate(set) var warnings: [String] = []

    init(scheduling: SchedulingAccumulator, replay: ReplayBuilder) {
        self.scheduling = scheduling
        self.replay = replay
    }

    fileprivate func consume(_ event: TraceEvent) {
        scheduling.consume(event)
        replay.consume(event)
    }

    /// Every event of `file`, in time order, each consumed by this pass as well.
    func events(of file: TraceFile, secondThread: Bool) -> Events {
        Events(pass: self, file: file, secondThread: secondThread)
    }

    /// The decoding loop of the second thread: consume and send on.
    private func produce(_ file: TraceFile, into queue: BatchQueue<TraceEvent>) {
        var stream = file.events()
        var batch: [TraceEvent] = []
        batch.reserveCapacity(Self.batchSize)
        while let event = stream.next() {
            consume(event)
            batch.append(event)
            if batch.count == Self.batchSize {
                queue.send(batch)
                batch = []
                batch.reserveCapacity(Self.batchSize)
            }
        }
        queue.send(batch)
        queue.close()
        (eventCount, warnings) = (stream.eventCount, stream.warnings)
    }

    /// The calling thread's side: the events, decoded here (a small trace) or
    /// received from the second thread. Call `finish()` after the last.
    struct Events {
        private let pass: SchedulingReplayPass
        private var stream: EventStream?
        private let queue: BatchQueue<TraceEvent>?
        private let work: BackgroundWork?
        private var batch: [TraceEvent] = []
        private var position = 0

        fileprivate init(pass: SchedulingReplayPass, file: TraceFile, secondThread: Bool) {
            self.pass = pass
            if secondThread {
                let queue = BatchQueue<TraceEvent>()
                self.queue = queue
                work = BackgroundWork { [pass] in pass.produce(file, into: queue) }
                stream = nil
            } else {
                queue = nil
                work = nil
                stream = file.events()
            }
        }

        mutating func next() -> TraceEvent? {
            if stream != nil {
                guard let event = stream!.next() else { return nil }
                pass.consume(event)
                return event
            }
            if position == batch.count {
                guard let next = queue?.next() else { return nil }
                batch = next
                position = 0
            }
            position += 1
            return batch[position - 1]
        }

        /// Waits for the second thread; the pass's state and counts are final after this.
        mutating func finish() {
            if let stream {
                pass.eventCount = stream.eventCount
                pass.warnings = stream.warnings
            }
            work?.join()
        }
    }
}
