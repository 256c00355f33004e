import GtraceFormat

/// Writes to pipes and sockets that another process of the tree read or waited
/// on (docs/METRICS.md, "Replay"): the messages processes pass each other.
/// multiprocessing pickles each task and result and sends it through a pipe;
/// threads of one process would pass the same objects by reference. The "as
/// threads of one process" what-if keeps that work, and says so with these
/// counts: a `ProcessPoolExecutor(2)` of 40 tasks returning 2 MB each was
/// predicted 768 ms as threads, which took ~0.55 s.
struct ProcessExchangeAccumulator {
    private let threadProcess: [Int]
    /// Per object: writes per writing process, and the processes that read it or waited on it.
    private var writes: [UInt64: [Int: Int]] = [:]
    private var readers: [UInt64: Set<Int>] = [:]
    /// Per object and writing process: the times of its first and last write.
    private var writeSpans: [UInt64: [Int: (first: UInt64, last: UInt64)]] = [:]

    init(tables: TraceTables) {
        threadProcess = tables.threads.map(\.process)
    }

    mutating func consume(_ event: TraceEvent) {
        guard case let .waker(kind, object, _) = event.kind, threadProcess.indices.contains(event.thread) else { return }
        let process = threadProcess[event.thread]
        switch kind {
        case .ioWrite:
            writes[object, default: [:]][process, default: 0] += 1
            let span = writeSpans[object]?[process]
            writeSpans[object, default: [:]][process] = (span?.first ?? event.time, max(span?.last ?? 0, event.time))
        case .ioRead, .ioWait, .ioReady: readers[object, default: []].insert(process)
        default: break
        }
    }

    /// Per process: the other processes that read or waited on objects it wrote to.
    func readersOfWrites() -> [Int: Set<Int>] {
        var result: [Int: Set<Int>] = [:]
        for (object, byProcess) in writes {
            guard let reading = readers[object] else { continue }
            for process in byProcess.keys {
                let others = reading.subtracting([process])
                if !others.isEmpty { result[process, default: []].formUnion(others) }
            }
        }
        return result
    }

    /// Per process: its writes to objects another process read or waited on.
    func writesReadElsewhere() -> [Int: Int] {
        var result: [Int: Int] = [:]
        for (object, byProcess) in writes {
            guard let reading = readers[object] else { continue }
            for (process, count) in byProcess where reading.contains(where: { $0 != process }) {
                result[process, default: 0] += count
            }
        }
        return result
    }

    /// Per process: the time from its first to its last write to an object another
    /// process read or waited on (the span in which it sent them messages).
    func exchangeSpans() -> [Int: (start: UInt64, end: UInt64)] {
        var result: [Int: (start: UInt64, end: UInt64)] = [:]
        for (object, byProcess) in writeSpans {
            guard let reading = readers[object] else { continue }
            for (process, span) in byProcess where reading.contains(where: { $0 != process }) {
                let known = result[process]
                result[process] = (min(known?.start ?? span.first, span.first), max(known?.end ?? span.last, span.last))
            }
        }
        return result
    }
}
