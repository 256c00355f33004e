import GtraceFormat

/// Writes to pipes and sockets that another process of the tree read or waited
/// on (docs/METRICS.md, "Replay"): the messages processes pass each other.
/// multiprocessing pickles each task and result and sends it through a pipe;
/// threads of one process would pass the same objects by reference. The "as
/// threads of one process" what-if keeps that work, and says so with these
/// counts: a `ProcessPoolExecutor(2)` of 40 tasks returning 2 MB each was
/// predicted 768 ms as threads, which took ~0.55 s.
struct ProcessExchangeAccumulator {
    /// One process's writes to one object: how many were noted, the bytes they counted, and
    /// the first's and last's times.
    struct Writes {
        var count = 0
        var bytes: UInt64 = 0
        var first = UInt64.max
        var last: UInt64 = 0
    }

    private let threadProcess: [Int]
    /// Per object: writes per writing process, and the processes that read it or waited on it.
    private var writes: [UInt64: [Int: Writes]] = [:]
    private var readers: [UInt64: Set<Int>] = [:]

    init(tables: TraceTables) {
        threadProcess = tables.threads.map(\.process)
    }

    mutating func consume(_ event: TraceEvent) {
        guard case let .waker(kind, object, value) = event.kind, threadProcess.indices.contains(event.thread) else { return }
        let process = threadProcess[event.thread]
        switch kind {
        case .ioWrite:
            var w = writes[object]?[process] ?? Writes()
            (w.count, w.first, w.last) = (w.count + 1, min(w.first, event.time), max(w.last, event.time))
            w.bytes = w.bytes.adding(saturating: WakerKind.writtenBytes(value))
            writes[object, default: [:]][process] = w
        case .ioRead, .ioWait, .ioReady: readers[object, default: []].insert(process)
        default: break
        }
    }

    /// Each process's writes to an object that other processes read or waited on, with those others.
    private func writesReadByOthers(_ body: (_ process: Int, _ writes: Writes, _ others: Set<Int>) -> Void) {
        for (object, byProcess) in writes {
            guard let reading = readers[object] else { continue }
            for (process, w) in byProcess {
                let others = reading.subtracting([process])
                if !others.isEmpty { body(process, w, others) }
            }
        }
    }

    /// Per process: the other processes that read or waited on objects it wrote to.
    func readersOfWrites() -> [Int: Set<Int>] {
        var result: [Int: Set<Int>] = [:]
        writesReadByOthers { process, _, others in result[process, default: []].formUnion(others) }
        return result
    }

    /// Per process: its writes to objects another process read or waited on.
    func writesReadElsewhere() -> [Int: Int] {
        var result: [Int: Int] = [:]
        writesReadByOthers { process, w, _ in result[process, default: 0] += w.count }
        return result
    }

    /// Per process of `spans`: from the earliest start of the others' spans to the latest
    /// end (the two smallest starts and largest ends, so linear in processes).
    static func othersSpans(_ spans: [Int: (start: UInt64, end: UInt64)]) -> [Int: (start: UInt64, end: UInt64)] {
        guard spans.count >= 2 else { return [:] }
        let starts = spans.sorted { ($0.value.start, $0.key) < ($1.value.start, $1.key) }.prefix(2)
        let ends = spans.sorted { ($0.value.end, $1.key) > ($1.value.end, $0.key) }.prefix(2)
        var result: [Int: (start: UInt64, end: UInt64)] = [:]
        for process in spans.keys {
            let start = starts.first { $0.key != process }!.value.start
            let end = ends.first { $0.key != process }!.value.end
            result[process] = (start, end)
        }
        return result
    }

    /// Per process: the bytes its writes counted (wakers.c) to objects another process read or
    /// waited on; a lower bound, since the last writes of a burst may go uncounted.
    func bytesReadElsewhere() -> [Int: UInt64] {
        var result: [Int: UInt64] = [:]
        writesReadByOthers { process, w, _ in result[process] = (result[process] ?? 0).adding(saturating: w.bytes) }
        return result
    }

    /// Per process: the time from its first to its last write to an object another
    /// process read or waited on (the span in which it sent them messages).
    func exchangeSpans() -> [Int: (start: UInt64, end: UInt64)] {
        var result: [Int: (start: UInt64, end: UInt64)] = [:]
        writesReadByOthers { process, w, _ in
            let known = result[process] ?? (w.first, w.last)
            result[process] = (min(known.start, w.first), max(known.end, w.last))
        }
        return result
    }
}
