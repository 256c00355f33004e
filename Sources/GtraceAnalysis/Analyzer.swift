import GtraceFormat

/// Computes a `TraceAnalysis` in one streaming pass over a trace: memory grows
/// with the number of threads and locks, not with the number of events.
public enum Analyzer {
    /// - Parameter replayOperations: traces with more replay operations are not replayed (0: never replay).
    /// `secondThread`: decode on a second thread with the scheduling and replay
    /// half (nil: when the trace is large enough to gain from it).
    public static func analyze(_ file: TraceFile, replayOperations: Int = defaultReplayOperationLimit,
                               secondThread: Bool? = nil) -> TraceAnalysis {
        let tables = file.tables
        var tracker = LockIntervalTracker(tables: tables)
        var lastTime: UInt64 = 0
        let traceEndGuess = max(tables.clock.recordingEndNanoseconds,
                                tables.processes.compactMap(\.endNanoseconds).max() ?? 0)
        var lockHalf = LockTransitionAccumulator(tables: tables, traceEndGuess: traceEndGuess)
        // The what-ifs replay up to `replayOperations`; the recording as it was, up to
        // `pathReplayFactor` times as many (parallelism(_:…)), in a file small enough to
        // fit: a trace has 1.5-2 operations per event and 3-7 bytes per event, and building
        // 4 M operations of a 10 M-event trace only to drop them took its report 30% more
        // time and 3x the memory (196 MB against 69 MB). (The first MiB is left out: the
        // tables and symbols.) Each simulated step visits every thread, so only programs of
        // a few threads: 301 threads of 1.1 M operations took turns until the simulator's
        // work limit (a report of 0.61 s against 0.29 s without it; 27 s in a debug build).
        let (product, overflow) = replayOperations.multipliedReportingOverflow(by: pathReplayFactor)
        let pathLimit = overflow ? Int.max : product
        let pathFits = max(0, file.size - (1 << 20)) / 2 <= pathLimit && tables.threads.count <= pathReplayThreadLimit
        let second = SchedulingReplayPass(scheduling: SchedulingAccumulator(tables: tables, traceEnd: traceEndGuess),
                                          replay: ReplayBuilder(tables: tables, operationLimit: pathFits ? pathLimit : replayOperations,
                                                                tokenLimit: replayOperations))
        var holds = second.scheduling.timeline  // lock holds for the timeline, summed on this side
        let cores = max(1, Int(tables.info["cpus"] ?? "") ?? 1)
        var others = EventAccumulators(tables: tables, hasPerf: second.scheduling.hasPerf, cores: cores)
        var events = second.events(of: file, secondThread: secondThread ?? (file.size >= SchedulingReplayPass.parallelMinimumBytes))
        while let event = events.next() {
            others.consume(event)
            if lockHalf.pythonWaitsEnabled { lockHalf.pythonWaits.consume(event) }
            lastTime = max(lastTime, event.time)
            tracker.consume(event, &lockHalf)
            switch event.kind {
            case .cpuIn: lockHalf.serialisation.switched(thread: event.thread, onCPU: true, at: event.time)
            case .cpuOut: lockHalf.serialisation.switched(thread: event.thread, onCPU: false, at: event.time)
            default: break
            }
            if !lockHalf.heldIntervals.isEmpty {  // (an unconditional removeAll was 2.7% of a report)
                for h in lockHalf.heldIntervals { holds.addHold(thread: h.thread, from: h.start, to: h.end) }
                lockHalf.heldIntervals.removeAllKeepingStorage()
            }
        }
        events.finish()
        let processEnds = tables.processes.compactMap(\.endNanoseconds)
        let end = max(lastTime, processEnds.max() ?? 0, tables.threads.compactMap(\.endNanoseconds).max() ?? 0)
        tracker.finish(at: end, &lockHalf)
        lockHalf.serialisation.finish(at: end)
        others.finish(at: end)
        let pythonEnabled = others.pythonEnabled
        for h in lockHalf.heldIntervals { holds.addHold(thread: h.thread, from: h.start, to: h.end) }
        second.scheduling.addHolds(holds)
        second.scheduling.finish(traceEnd: end)
        let scheduling = second.scheduling
        let program = second.replay.finish(traceEnd: end)

        // A process lives from its first record (perf sees the fork or exec and the
        // loader before the runtime's start record) to its end, and covers its threads.
        let processSpans = tables.processes.indices.map { scheduling.span(process: $0) }
        let start = processSpans.map(\.start).min() ?? 0
        let wall = end > start ? end - start : 0
        let summary = makeSummary(file: file, tables: tables, start: start, end: end, events: second.eventCount)
        let names = LockNameIndex(tables: tables)
        let futexStats = others.futexes.stats
        let joinLocks = lockHalf.joinWaits.joinLocks(others.endings)
        let serialisation = lockHalf.serialisation
        let lockStats = lockHalf.locks.filter { $0.info.kind != .condition }
            .map { acc -> LockStatistics in
                var stats = acc.statistics(wall: wall, tables: tables, names: names).withFutex(futexStats[acc.info.index])
                stats.serialisedNanoseconds = serialisation.serialised.indices.contains(acc.info.index) ? serialisation.serialised[acc.info.index] : 0
                stats.holderWaits = others.holderWaits.waits[acc.info.index]
                stats.waitsAreJoins = joinLocks.contains(acc.info.index)
                if let span = tracker.holdSpan(lock: acc.info.index) {
                    stats.firstHoldNanoseconds = span.first
                    stats.lastHoldEndNanoseconds = span.last
                }
                return stats
            }
            .sorted { ($0.holdRatio, $0.waitTotalNanoseconds, -$0.index) > ($1.holdRatio, $1.waitTotalNanoseconds, -$1.index) }
        let conditions = lockHalf.locks.filter { $0.info.kind == .condition }.map { $0.conditionStatistics(tables: tables) }
        let pythonProcesses = Set(tables.gils.map(\.process))
        var threadStats = lockHalf.threads.map { $0.statistics(tables: tables, traceEnd: end, isPython: pythonProcesses.contains($0.info.process)) }
        for i in threadStats.indices {
            let span = scheduling.span(thread: i)
            threadStats[i].startNanoseconds = span.start
            threadStats[i].lifetimeNanoseconds = span.end - span.start
            threadStats[i].states = scheduling.states(thread: i)
            threadStats[i].blockingCalls = scheduling.callTotals(thread: i)
        }
        let gilStats = lockHalf.gils.compactMap { $0 }.sorted { $0.info.process < $1.info.process }.map { acc in
            var stats = acc.statistics(lockStats: lockStats.first { $0.index == acc.lock }, tables: tables, traceEnd: end)
            if pythonEnabled { stats.pythonCode = others.python.statistics(lock: acc.lock) }
            return stats
        }
        var threadCounts: [Int: Int] = [:]
        for thread in tables.threads { threadCounts[thread.process, default: 0] += 1 }
        let exchangeWrites = others.exchanges.writesReadElsewhere()
        let exchangeBytes = others.exchanges.bytesReadElsewhere()
        let exchangeReaders = others.exchanges.readersOfWrites()
        let exchangeSpans = others.exchanges.exchangeSpans()
        let othersSpans = ProcessExchangeAccumulator.othersSpans(exchangeSpans.filter { (exchangeWrites[$0.key] ?? 0) >= 2 })
        let processStats = tables.processes.map { process in
            var stats = ProcessStatistics(index: process.index, pid: process.pid, ppid: process.ppid,
                                          command: process.arguments.joined(separator: " "),
                                          lifetimeNanoseconds: processSpans[process.index].end &- processSpans[process.index].start,
                                          cpuNanoseconds: process.userCPUNanoseconds.adding(saturating: process.systemCPUNanoseconds),
                                          threadCount: threadCounts[process.index] ?? 0,
                                          exit: process.exitKind.label, exitStatus: process.exitStatus)
            stats.parent = process.parent
            stats.startedByExec = process.parent.map { tables.processes[$0].pid == process.pid } ?? true
                || (process.image == 0 && !others.forkedPids.contains(process.pid))
            stats.startNanoseconds = processSpans[process.index].start
            stats.writesReadByOtherProcesses = exchangeWrites[process.index] ?? 0
            stats.bytesWrittenReadByOtherProcesses = exchangeBytes[process.index] ?? 0
            stats.readersOfItsWrites = exchangeReaders[process.index].map { $0.sorted() }
            if let span = exchangeSpans[process.index], span.end - span.start >= 1_000_000, stats.writesReadByOtherProcesses >= 2,
               let cpu = scheduling.onCPU(process: process.index, from: span.start, to: span.end) {
                stats.exchangeNanoseconds = span.end - span.start
                stats.exchangeParallelism = Double(cpu) / Double(span.end - span.start)
                if let others = othersSpans[process.index] {
                    let from = max(span.start, others.start), to = min(span.end, others.end)
                    if to > from, to - from >= 1_000_000, let cpu = scheduling.onCPU(process: process.index, from: from, to: to) {
                        stats.othersExchangeNanoseconds = to - from
                        stats.othersExchangeParallelism = Double(cpu) / Double(to - from)
                    }
                }
            }
            stats.instrumented = process.instrumented
            stats.end = ExitDescription.text(kind: process.exitKind, status: process.exitStatus)
            stats.onCPUNanoseconds = scheduling.onCPU(process: process.index)
            stats.utilisation = scheduling.utilisation(process: process.index)
            stats.utilisationLevels = scheduling.utilisationLevels(process: process.index)
            let cpu = stats.onCPUNanoseconds ?? stats.cpuNanoseconds
            stats.averageParallelism = stats.lifetimeNanoseconds == 0 ? 0 : Double(cpu) / Double(stats.lifetimeNanoseconds)
            if let reap = scheduling.reaps[process.pid], reap.time >= process.startNanoseconds {
                stats.reapedByPid = reap.parentPid
                stats.reapWaitNanoseconds = reap.waitNanoseconds
            }
            return stats
        }
        var summaryWithScheduling = summary
        summaryWithScheduling.scheduling = tables.info["scheduling"] ?? "none"
        summaryWithScheduling.schedulingNote = tables.info["scheduling_note"]
        summaryWithScheduling.utilisationBucketNanoseconds = scheduling.bucketNanoseconds
        var analysis = TraceAnalysis(summary: summaryWithScheduling, processes: processStats, threads: threadStats, locks: lockStats,
                                     conditions: conditions, gil: gilStats, verdict: [], warnings: second.warnings)
        // Warnings the recorder kept in the trace (objects it could not read for names).
        analysis.warnings += tables.info.values.filter { $0.key == "warning" }.map(\.value)
        // A GIL found but never used is no problem; one that could not be located is.
        for info in tables.gils where info.lock == nil && (info.status.contains(.disagree)
            || info.status.isDisjoint(with: [.byLayout, .byPattern, .disabled])) {
            let pid = tables.processes.indices.contains(info.process) ? tables.processes[info.process].pid : 0
            analysis.warnings.append("process \(pid) (Python \(info.version)): \(info.status.label)")
        }
        analysis.parallelism = parallelism(analysis, tables: tables, scheduling: scheduling, program: program, cores: cores,
                                           foreign: others.foreign, whatIfLimit: replayOperations)
        analysis.timeline = scheduling.timeline.timeline(tables: tables)
        analysis.jvmMonitors = JVMMonitorStatistics.compute(conditions: conditions)
        analysis.conditionQueues = others.conditionQueues.statistics(locks: lockStats)
        analysis.invisibleWaits = InvisibleWaitStatistics.compute(threads: threadStats, processes: processStats,
                                                                  bufferSetupNanoseconds: analysis.summary.recordingCost?.bufferSetupNanoseconds,
                                                                  childWaits: program.unseenChildWaits)
        if lockHalf.pythonWaitsEnabled { analysis.pythonLockWaits = lockHalf.pythonWaits.statistics() }
        let verdict = Verdict.decide(analysis)
        analysis.limit = verdict.limit
        analysis.verdict = verdict.sentences + Self.freeThreadedSentences(tables) + Self.commandFailedSentences(tables)
        analysis.parallelism?.whatIf = verdict.whatIf
        return analysis
    }

    static func makeSummary(file: TraceFile, tables: TraceTables, start: UInt64, end: UInt64, events: Int) -> RunSummary {
        let info = tables.info
        let treeUser = info["tree_user_ns"].flatMap { UInt64($0) }
        let treeSystem = info["tree_system_ns"].flatMap { UInt64($0) }
        // Prefer the recorder's rusage of all reaped descendants; else sum the processes' own.
        let user = treeUser ?? tables.processes.map(\.userCPUNanoseconds).saturatingSum
        let system = treeSystem ?? tables.processes.map(\.systemCPUNanoseconds).saturatingSum
        var summary = RunSummary(trace: file.path, command: info["command"] ?? "",
                                 wallNanoseconds: end > start ? end - start : 0,
                                 cpuNanoseconds: user.adding(saturating: system), userCPUNanoseconds: user, systemCPUNanoseconds: system,
                                 processCount: tables.processes.count, threadCount: tables.threads.count,
                                 lockCount: tables.locks.filter { $0.kind != .condition }.count, eventCount: events,
                                 startNanoseconds: start, endNanoseconds: end, machine: MachineCPU(info: info), loss: EventLoss(info: info),
                                 recordingCost: RecordingCost(info: info))
        (summary.execCount, summary.execContinuedThreads) = tables.execSuccessions
        summary.spinWaitRuntimes = SpinWaitRuntimeUse.parse(info)
        for entry in info.values where entry.key == "spin_wait_env" {
            let parts = entry.value.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { summary.spinWaitEnvironment[String(parts[0])] = String(parts[1]) }
        }
        summary.onlineCPUs = info["cpus_online"].flatMap { Int($0) }
        summary.cpuQuota = info["cpu_quota"].flatMap { Double($0) }
        summary.cpuThrottledNanoseconds = info["cpu_throttled_ns"].flatMap { UInt64($0) }
        summary.pythonSemaphores = PythonSemaphoreSite.parse(info)
        return summary
    }
}

/// The tables' per-lock entries by lock index (the first entry of each, as a
/// search of the table in order would find): no walk over the tables per lock.
struct LockNameIndex {
    var gil: [Int: GILInfo] = [:]
    var symbol: [Int: String] = [:]
    var callSites: [Int: [CallSite]] = [:]

    init(tables: TraceTables) {
        for info in tables.gils { if let lock = info.lock, gil[lock] == nil { gil[lock] = info } }
        for name in tables.lockNames where symbol[name.lock] == nil { symbol[name.lock] = name.name }
        for site in tables.callSites { callSites[site.lock, default: []].append(site) }
    }
}

/// Running totals for one lock.
struct LockAccumulator {
    let info: LockInfo
    var acquisitions = 0
    var contended = 0
    var failed = 0
    var trylockBusy = 0
    var ownerChanges = 0
    var holdTotal: UInt64 = 0
    var holdMax: UInt64 = 0
    var holdCount = 0
    var holdHistogram = LogHistogram()
    var holders = 0
    var heldSince: UInt64 = 0
    var held: UInt64 = 0
    var waitCount = 0
    var waitTotal: UInt64 = 0
    var waitMax: UInt64 = 0
    var outsideWaits = 0
    var outsideWaitTotal: UInt64 = 0
    var threads: Set<Int> = []
    private var lastUser = -1
    var rwlock: RWLockStatistics?

    init(info: LockInfo) {
        self.info = info
        if info.kind == .rwlock { rwlock = RWLockStatistics() }
    }

    /// The threads that took the lock (a set insert only when the taker changes).
    mutating func used(by thread: Int) {
        guard thread != lastUser else { return }
        lastUser = thread
        threads.insert(thread)
    }

    mutating func holderBegan(at time: UInt64) {
        if holders == 0 { heldSince = time }
        holders += 1
    }

    mutating func holdEnded(_ interval: LockInterval) {
        // Saturating: a hostile file's intervals reach 2^62 ns each.
        holdTotal = holdTotal.adding(saturating: interval.duration)
        holdMax = max(holdMax, interval.duration)
        holdCount += 1
        holdHistogram.record(interval.duration)
        holders -= 1
        if holders == 0, interval.end > heldSince { held = held.adding(saturating: interval.end - heldSince) }
        rwlock?.add(interval)
    }

    mutating func waitEnded(_ interval: LockInterval) {
        if interval.releasedOutside {
            outsideWaits += 1
            outsideWaitTotal = outsideWaitTotal.adding(saturating: interval.duration)
        }
        waitCount += 1
        waitTotal = waitTotal.adding(saturating: interval.duration)
        waitMax = max(waitMax, interval.duration)
        rwlock?.add(interval)
    }

    func statistics(wall: UInt64, tables: TraceTables, names: LockNameIndex) -> LockStatistics {
        let pid = tables.processes.indices.contains(info.process) ? tables.processes[info.process].pid : 0
        let wallD = Double(max(wall, 1))
        let python = names.gil[info.index].map { "GIL (CPython \($0.majorMinor))" }
        let symbol = names.symbol[info.index]
        return LockStatistics(index: info.index, process: info.process, pid: pid, address: info.addressText,
                              name: python ?? symbol ?? info.addressText, kind: info.kind.label, acquisitions: acquisitions, contendedAcquisitions: contended,
                              failedAcquisitions: failed, trylockBusy: trylockBusy, ownerChanges: ownerChanges,
                              holdTotalNanoseconds: holdTotal,
                              holdMeanNanoseconds: holdCount == 0 ? 0 : holdTotal / UInt64(holdCount),
                              holdMaxNanoseconds: holdMax, holdP99Nanoseconds: min(holdHistogram.percentile(0.99), holdMax),
                              heldNanoseconds: held, holdRatio: Double(held) / wallD, waitCount: waitCount,
                              waitTotalNanoseconds: waitTotal,
                              waitMeanNanoseconds: waitCount == 0 ? 0 : waitTotal / UInt64(waitCount),
                              waitMaxNanoseconds: waitMax, waitRatio: Double(waitTotal) / wallD,
                              waitsForOtherProcesses: outsideWaits, waitForOtherProcessesNanoseconds: outsideWaitTotal,
                              threadsUsing: threads.count,
                              callSites: (names.callSites[info.index] ?? []).prefix(5).map {
                                  CallSiteStatistics(site: $0.site, acquisitions: $0.acquisitions, waits: $0.waits,
                                                     waitNanoseconds: $0.waitNanoseconds)
                              }, rwlock: rwlock)
    }

    func conditionStatistics(tables: TraceTables) -> ConditionStatistics {
        let pid = tables.processes.indices.contains(info.process) ? tables.processes[info.process].pid : 0
        var stats = ConditionStatistics(index: info.index, pid: pid, address: info.addressText, waits: waitCount,
                                        waitTotalNanoseconds: waitTotal, waitMaxNanoseconds: waitMax)
        stats.callSites = tables.callSites.filter { $0.lock == info.index }.map {
            CallSiteStatistics(site: $0.site, acquisitions: $0.acquisitions, waits: $0.waits, waitNanoseconds: $0.waitNanoseconds)
        }
        return stats
    }
}

/// Running totals for one thread.
struct ThreadAccumulator {
    let info: ThreadInfo
    var acquisitions = 0
    var contended = 0
    var held = 0
    var holdingSince: UInt64 = 0
    var holdingNanoseconds: UInt64 = 0
    var waitingNanoseconds: UInt64 = 0
    var conditionWaitNanoseconds: UInt64 = 0
    var gilHoldingNanoseconds: UInt64 = 0
    var gilWaitingNanoseconds: UInt64 = 0

    init(info: ThreadInfo) { self.info = info }

    mutating func holdBegan(at time: UInt64) {
        if held == 0 { holdingSince = time }
        held += 1
    }

    mutating func holdEnded(at time: UInt64) {
        held -= 1
        if held == 0 { holdingNanoseconds += time &- holdingSince }
    }

    func statistics(tables: TraceTables, traceEnd: UInt64, isPython: Bool) -> ThreadStatistics {
        let process = tables.processes.indices.contains(info.process) ? tables.processes[info.process] : nil
        let end = info.endNanoseconds ?? process?.endNanoseconds ?? traceEnd
        let lifetime = end > info.startNanoseconds ? end - info.startNanoseconds : 0
        var gil: ThreadGILTimes?
        if isPython {
            // Without scheduling data, CPU time beyond the GIL holds is C code that released it.
            let withoutGIL = info.cpuNanoseconds.map { $0 > gilHoldingNanoseconds ? $0 - gilHoldingNanoseconds : 0 }
            let accounted = gilHoldingNanoseconds.adding(saturating: gilWaitingNanoseconds).adding(saturating: withoutGIL ?? 0)
            gil = ThreadGILTimes(holdingNanoseconds: gilHoldingNanoseconds, waitingNanoseconds: gilWaitingNanoseconds,
                                 runningWithoutGILNanoseconds: withoutGIL,
                                 otherNanoseconds: withoutGIL == nil ? nil : (lifetime > accounted ? lifetime - accounted : 0))
        }
        return ThreadStatistics(index: info.index, process: info.process, pid: process?.pid ?? 0, tid: info.tid,
                                name: info.name, startNanoseconds: info.startNanoseconds,
                                lifetimeNanoseconds: end > info.startNanoseconds ? end - info.startNanoseconds : 0,
                                cpuNanoseconds: info.cpuNanoseconds, acquisitions: acquisitions,
                                contendedAcquisitions: contended, holdingNanoseconds: holdingNanoseconds,
                                waitingNanoseconds: waitingNanoseconds, conditionWaitNanoseconds: conditionWaitNanoseconds,
                                gil: gil, ended: info.endKind.label)
    }
}
