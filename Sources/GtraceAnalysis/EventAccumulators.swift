import GtraceFormat

/// The analyzer's accumulators that read only the events, nothing of the lock
/// tracker's transitions, fed by the lock half's loop (`Analyzer`). They were
/// tried on the second thread, with the scheduling and replay half: a dense
/// Python trace with a replay and a 1000-thread trace got slower there (that
/// half is already as busy as this one; BENCHMARKS.md, session 29).
struct EventAccumulators {
    var foreign: ForeignLoadTracker?
    var futexes = FutexAccumulator()
    var conditionQueues = ConditionQueueAccumulator()
    var holderWaits: HolderWaitsAccumulator
    var exchanges: ProcessExchangeAccumulator
    var endings: ThreadEndings
    var python: PythonAttributionAccumulator
    let pythonEnabled: Bool
    /// Children whose fork the parent recorded.
    var forkedPids: Set<Int32> = []

    init(tables: TraceTables, hasPerf: Bool, cores: Int) {
        foreign = hasPerf ? ForeignLoadTracker(threadProcesses: tables.threads.map(\.process), cores: cores,
                                               continuations: tables.execContinuations) : nil
        holderWaits = HolderWaitsAccumulator(tables: tables)
        exchanges = ProcessExchangeAccumulator(tables: tables)
        endings = ThreadEndings(threads: tables.threads.count)
        python = PythonAttributionAccumulator(tables: tables)
        pythonEnabled = python.isEnabled
    }

    mutating func consume(_ event: TraceEvent) {
        if pythonEnabled { python.consume(event) }
        endings.consume(event)
        if case let .fork(child) = event.kind { forkedPids.insert(child) }
        foreign?.consume(event)
        futexes.consume(event)
        conditionQueues.consume(event)
        holderWaits.consume(event)
        exchanges.consume(event)
    }

    /// Closes what is open at the end of the trace.
    mutating func finish(at end: UInt64) {
        foreign?.finish(at: end)
        conditionQueues.finish(at: end)
        if pythonEnabled { python.finish(at: end) }
    }
}
