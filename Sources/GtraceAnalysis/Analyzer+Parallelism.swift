import GtraceFormat

extension Analyzer {
    /// Core counts the replay predicts for.
    static let predictedCores = [1, 2, 4, 8, 16]
    /// Larger programs are not replayed by default: the operations are held in
    /// memory (~17 bytes each) and the twelve simulations of 1 000 000
    /// operations take ~0.3 s (docs/BENCHMARKS.md).
    public static let defaultReplayOperationLimit = 1_000_000
    /// Up to this many times the what-ifs' limit, the recording is still replayed as it
    /// was and on unlimited cores (its fit and critical path: 2 simulations of the ~12).
    /// Node starting 4 worker threads is 1.7 M events in 0.29 s: its report said only
    /// "Serial parts", where the critical path puts 151 of its 229 ms in node's main thread.
    static let pathReplayFactor = 4
    /// …for programs of at most this many threads (Analyzer.analyze).
    static let pathReplayThreadLimit = 64
    static let replayThreadLimit = 2_000
    /// perf's on-CPU time below this share of getrusage's: the CPU time is getrusage's.
    static let perfShortfallLimit = 0.8

    static func parallelism(_ a: TraceAnalysis, tables: TraceTables, scheduling: SchedulingAccumulator,
                            program: ReplayProgram, cores: Int, foreign: ForeignLoadTracker?,
                            whatIfLimit: Int = defaultReplayOperationLimit) -> ParallelismStatistics {
        let wall = a.summary.wallNanoseconds
        let onCPU = a.threads.compactMap { $0.states?.onCPUNanoseconds }.saturatingSum
        // perf misses each thread's exit work: when that is over a fifth of the
        // tree's getrusage time (3000 threads one after another: 120 of 192 ms),
        // getrusage's is the CPU time.
        let rusage = a.summary.cpuNanoseconds
        let perfShort = scheduling.hasPerf && Double(onCPU) < perfShortfallLimit * Double(rusage)
        let perf = scheduling.hasPerf
        let cpu = perf && !perfShort ? onCPU : rusage
        var stats = ParallelismStatistics(
            wallNanoseconds: wall, cpuNanoseconds: cpu,
            cpuSource: perf && !perfShort ? "on-CPU time from perf" : "user + system time (getrusage)",
            averageParallelism: wall == 0 ? 0 : Double(cpu) / Double(wall), cores: cores,
            utilisation: perf ? UtilisationHistogram.levels(scheduling.onCPUIntervals.map { (start: $0.start, end: $0.end) },
                                                            runStart: a.summary.startNanoseconds,
                                                            runEnd: a.summary.endNanoseconds) : [],
            serialised: nil, replayOfRecording: nil, predictions: [], criticalPath: nil, replayNote: nil)
        if perfShort { stats.perfShortfallNanoseconds = rusage - onCPU }
        // Two threads on one pthread spinlock: 62 ms on a CPU, 29 ms of it spinning; dividing
        // by the CPU time said 44% of the work was serialised and "at most 2.27" with unlimited
        // cores, when nearly all of it ran under the lock (1 thread took as long as 2).
        let spinning = perf ? a.threads.compactMap { $0.states?.spinningNanoseconds }.saturatingSum : 0
        if spinning > 0 { stats.spinningNanoseconds = spinning }
        let work = stats.workNanoseconds
        if let foreign {
            stats.foreignLoad = ForeignLoad(wallNanoseconds: foreign.wallNanoseconds,
                                            share: wall == 0 ? 0 : min(1, Double(foreign.wallNanoseconds) / Double(wall)),
                                            cpuNanoseconds: foreign.cpuNanoseconds,
                                            threadNanoseconds: foreign.threadNanoseconds.saturatingSum)
            if foreign.cpusUsed > 0, foreign.cpusUsed < cores { stats.foreignLoad?.cpusUsed = foreign.cpusUsed }
            // Everything the CPUs did in the window that was not the tree's threads: perf's on-CPU
            // time, or the tree's own rusage when larger. Perf misses a thread's time after its last
            // switch record (its exit: 2550 short threads used 288 ms by rusage, 223 ms by perf,
            // and the 65 ms went to "other programs").
            if let m = a.summary.machine, let (idle, capacity, slack) = m.idleAndCapacity(cores: cores) {
                let treeCPU = max(onCPU, Self.treeRusageNanoseconds(tables.info) ?? 0)
                stats.foreignLoad?.check(othersCPU: capacity > idle.adding(saturating: treeCPU) ? capacity - idle - treeCPU : 0,
                                         recorderCPU: m.recorderNanoseconds, idleEntries: m.idleEntries, countersSlack: slack)
            }
        }
        if let lock = a.locks.max(by: { ($0.serialisedNanoseconds, -$0.index) < ($1.serialisedNanoseconds, -$1.index) }),
           lock.serialisedNanoseconds > 0, work > 0 {
            stats.serialised = SerialisedWork(resource: lock.name, pid: lock.pid, nanoseconds: lock.serialisedNanoseconds,
                                              heldNanoseconds: lock.heldNanoseconds,
                                              amdahlBound: Double(work) / Double(lock.serialisedNanoseconds),
                                              serialFraction: min(1, Double(lock.serialisedNanoseconds) / Double(work)))
        }
        guard !program.overLimit, program.threads.count <= replayThreadLimit else {
            stats.replayNote = program.overLimit
                ? "not replayed: more than \(program.operationCount - 1) operations ("
                    + (program.operationCount - 1 > whatIfLimit ? "\(pathReplayFactor)× the what-ifs' limit of \(whatIfLimit): raise it" : "raise the limit")
                    + " with --replay-operations)"
                : "not replayed: \(program.threads.count) threads is beyond the replay's limit of \(replayThreadLimit)"
            stats.bound = bound(stats, threadsAtOnce: mostThreadsAtOnce(a.threads))
            return stats
        }
        func simulate(_ scenario: ReplayScenario) -> ReplaySimulator.Outcome {
            var simulator = ReplaySimulator(program: program, scenario: scenario)
            return simulator.run()
        }
        let recorded = simulate(ReplayScenario(name: "as recorded", cores: cores))
        guard !recorded.gaveUp else {
            stats.replayNote = "not replayed: \(program.threads.count) threads taking turns went beyond the replay's work limit"
            stats.bound = bound(stats, threadsAtOnce: mostThreadsAtOnce(a.threads))
            return stats
        }
        // What-ifs are measured against the recording replayed as it was on an idle machine,
        // never against the measured wall time: the model's own error and other programs'
        // load are then not credited to the what-if.
        func prediction(_ scenario: ReplayScenario, _ outcome: ReplaySimulator.Outcome) -> Prediction {
            let speedup = outcome.wallNanoseconds == 0 ? 0 : Double(recorded.wallNanoseconds) / Double(outcome.wallNanoseconds)
            return Prediction(scenario: scenario.name, cores: scenario.cores, wallNanoseconds: outcome.wallNanoseconds,
                              speedup: speedup, stuckThreads: outcome.stuckThreads)
        }
        // A what-if that went beyond the work limit is left out (its times mean nothing).
        var gaveUp: [(String, Int?)] = []
        func predict(_ scenario: ReplayScenario, _ outcome: ReplaySimulator.Outcome) -> Prediction {
            if outcome.gaveUp { gaveUp.append((scenario.name, scenario.cores)) }
            return prediction(scenario, outcome)
        }
        stats.unexplainedWaitNanoseconds = program.unexplainedNanoseconds
        let pythonTokens = program.initialTokens.keys.filter { !program.tokensWithGIL.contains($0) }
        if !pythonTokens.isEmpty { stats.mutexPythonLocks = pythonTokens.sorted() }
        stats.keptWaitNanoseconds = program.keptNanoseconds
        stats.unexplainedWaits = program.unexplainedWaits.compactMap { w in
            guard tables.threads.indices.contains(w.thread) else { return nil }
            let t = tables.threads[w.thread]
            let pid = tables.processes.indices.contains(t.process) ? tables.processes[t.process].pid : 0
            return UnexplainedWait(tid: t.tid, pid: pid, thread: t.name, what: w.what,
                                   startNanoseconds: w.startNanoseconds > program.startNanoseconds ? w.startNanoseconds - program.startNanoseconds : 0,
                                   nanoseconds: w.nanoseconds, wakerGuessed: w.wakerGuessed)
        }
        // Every other simulation is independent of the rest: they run side by side on
        // all cores (ReplayBatch), and are read back in this order.
        let selfReplayScenario = ReplayScenario(name: "as recorded", cores: cores, foreignLoad: true)
        let whatIfsReplayed = program.operationCount <= whatIfLimit
        if !whatIfsReplayed {
            stats.replayNote = "what-ifs not replayed: more than \(whatIfLimit) operations (raise the limit with --replay-operations); the recording is replayed as it was and on unlimited cores (its fit and critical path)"
        }
        let predictedCores = whatIfsReplayed ? Self.predictedCores : [cores]
        let whatIfs = whatIfsReplayed ? whatIfScenarios(a, program: program, cores: cores) : []
        let unlimitedScenario = ReplayScenario(name: "unlimited cores", cores: nil)
        // With at least as many cores as threads no thread ever waits for one: a what-if on
        // more cores than that replays exactly as the one on that many (seed 6's 6 threads on
        // 8 and 16 cores), so it is not replayed again.
        let sameAs = Self.sameReplays(whatIfs, threads: program.threads.count)
        let replayed = whatIfs.indices.filter { sameAs[$0] == nil }
        let outcomes = ReplayBatch.run(program, [selfReplayScenario, unlimitedScenario] + replayed.map { whatIfs[$0] })
        var outcomeOf: [Int: ReplaySimulator.Outcome] = [:]  // index in whatIfs → outcome
        for (k, outcome) in outcomes.dropFirst(2).enumerated() { outcomeOf[replayed[k]] = outcome }
        for (i, same) in sameAs { outcomeOf[i] = outcomeOf[same] }

        // The self-replay: the recording as it was, with the time other programs
        // and wake-ups took from it. Every prediction assumes an idle machine.
        let selfReplay = outcomes[0]
        stats.replayOfRecording = prediction(ReplayScenario(name: "as recorded", cores: cores), selfReplay)
        if wall > 0 {
            let error = (Double(selfReplay.wallNanoseconds) - Double(wall)) / Double(wall)
            stats.replayFit = ReplayFit(replayNanoseconds: selfReplay.wallNanoseconds, measuredNanoseconds: wall, error: error,
                                        fits: abs(error) <= ReplayFit.tolerance && selfReplay.stuckThreads == 0,
                                        unexplainedWaits: stats.unexplainedWaits.prefix(5).map {
                                            "\($0.what) in \($0.pid)/\($0.tid) \(Verdict.duration($0.nanoseconds))"
                                        })
        }
        if program.wakeUps > 0 {
            stats.wakeUps = WakeUpCost(count: program.wakeUps, totalNanoseconds: program.wakeUpNanoseconds,
                                       meanNanoseconds: program.wakeUpNanoseconds / UInt64(program.wakeUps),
                                       runNanoseconds: selfReplay.wallNanoseconds > recorded.wallNanoseconds
                                           ? selfReplay.wallNanoseconds - recorded.wallNanoseconds : 0)
        }
        var next = 0
        for p in predictedCores {
            if p == cores {
                stats.predictions.append(prediction(ReplayScenario(name: "as recorded", cores: p), recorded))
            } else {
                stats.predictions.append(predict(whatIfs[next], outcomeOf[next]!))
                next += 1
            }
        }
        while next < whatIfs.count {
            stats.predictions.append(predict(whatIfs[next], outcomeOf[next]!))
            next += 1
        }
        stats.predictions.removeAll { p in gaveUp.contains { $0.0 == p.scenario && $0.1 == p.cores } }
        // The replay lets a spinlock's waiter wait off the CPUs. On fewer CPUs a spinner takes one
        // from the holder it waits for: two threads on one spinlock took 60-82 ms on one CPU,
        // replayed as 35 ms.
        if stats.spinningIsLarge {
            stats.predictions.removeAll { $0.cores.map { $0 < cores } ?? false }
            stats.fewerCoresNote = "fewer cores than \(cores): not predicted; threads spun \(Verdict.duration(spinning)) waiting for spinlocks, and on fewer CPUs a spinning thread takes a CPU from the holder it waits for, which the replay does not model"
        }
        if let path = outcomes[1].criticalPath {
            stats.criticalPath = summary(path, tables: tables, locks: a.locks)
        }
        stats.bound = bound(stats, threadsAtOnce: mostThreadsAtOnce(a.threads))
        return stats
    }

    /// The what-ifs besides the recording as it was and unlimited cores: other core
    /// counts, without the GIL, with one GIL, without the most waited-for lock.
    static func whatIfScenarios(_ a: TraceAnalysis, program: ReplayProgram, cores: Int) -> [ReplayScenario] {
        var whatIfs: [ReplayScenario] = Self.predictedCores.filter { $0 != cores }.map { ReplayScenario(name: "as recorded", cores: $0) }
        if !program.gilLocks.isEmpty {
            whatIfs += Self.predictedCores.map { ReplayScenario(name: "without the GIL (threads as processes)", cores: $0, removeGIL: true) }
        }
        // The other way round: several processes' GILs replayed as one, as if the
        // processes were threads of one process.
        if program.gilLocks.count >= 2 {
            whatIfs += Self.predictedCores.map { ReplayScenario(name: "with one GIL (processes as threads)", cores: $0, shareGIL: true) }
        }
        // Not a lock whose waits are joins: without it the joiner would run on
        // before the thread it joins ended, another program (JoinWaitTracker).
        if let contended = a.locks.filter({ $0.kind != LockKind.gil.label && $0.waitTotalNanoseconds > 0 && !$0.waitsAreJoins })
            .max(by: { $0.waitTotalNanoseconds < $1.waitTotalNanoseconds }) {
            // One file's lock is one lock in every process (replayed as its first row, ReplayBuilder).
            let removed = contended.kind == LockKind.fileLock.label
                ? a.locks.filter { $0.kind == contended.kind && $0.address == contended.address }.map(\.index).min() ?? contended.index
                : contended.index
            whatIfs.append(ReplayScenario(name: "without lock \(contended.name)", cores: cores, removedLock: removed))
        }
        return whatIfs
    }

    /// CPU time ÷ max(serialised work, critical path), and never more than the threads
    /// alive at once (each runs on one core at a time: without a replay, a lock that
    /// serialised almost nothing gave node's 5 threads "at most 9335.85"); at least 1 and
    /// at least the measured parallelism. The critical path counts only from a replay
    /// that fits the run: two threads handing a condition variable back and forth
    /// replayed 33% short, and its critical path, 41% of the wall time, was no bound.
    /// What-ifs whose outcome is another's (index → that index): the same scenario on more
    /// cores than a cores count that is at least `threads`. No thread ever waits for a CPU
    /// there, so the replay steps the same way whatever the number.
    static func sameReplays(_ whatIfs: [ReplayScenario], threads: Int) -> [Int: Int] {
        var same: [Int: Int] = [:]
        for (i, w) in whatIfs.enumerated() {
            guard let c = w.cores, c > threads else { continue }
            var base = w
            if let j = whatIfs.indices.first(where: { j in
                guard let d = whatIfs[j].cores, d >= threads, d < c else { return false }
                base.cores = d
                return whatIfs[j] == base
            }) {
                same[i] = j
            }
        }
        return same
    }

    /// The tree's CPU time from the recorder's rusage of its reaped descendants, when recorded.
    static func treeRusageNanoseconds(_ info: RunInfo) -> UInt64? {
        guard let user = info["tree_user_ns"].flatMap({ UInt64($0) }), let system = info["tree_system_ns"].flatMap({ UInt64($0) }) else { return nil }
        return user.adding(saturating: system)
    }

    static func bound(_ stats: ParallelismStatistics, threadsAtOnce: Int) -> ParallelismBound? {
        let cpu = Double(stats.workNanoseconds)
        guard cpu > 0 else { return nil }
        let lock = stats.serialised.map { cpu / Double(max($0.nanoseconds, 1)) }
        let path = stats.replayFit?.fits == false ? nil
            : stats.criticalPath.flatMap { $0.lengthNanoseconds > 0 ? cpu / Double($0.lengthNanoseconds) : nil }
        guard lock != nil || path != nil else { return nil }
        // The measured parallelism counts spinning: the floor is the work's.
        let floor = max(1, stats.spinningNanoseconds == nil ? stats.averageParallelism
                            : stats.wallNanoseconds == 0 ? 0 : cpu / Double(stats.wallNanoseconds))
        var value = Double.infinity, limitedBy = "measured"
        if let lock, lock < value { value = lock; limitedBy = "lock" }
        if let path, path < value { value = path; limitedBy = "critical path" }
        let threads = threadsAtOnce > 0 ? Double(threadsAtOnce) : nil
        if let threads, threads < value { value = threads; limitedBy = "threads" }
        if value < floor { value = floor }
        return ParallelismBound(value: value, limitedBy: limitedBy, lockBound: lock, criticalPathBound: path, threadsAtOnce: threadsAtOnce)
    }

    /// The most threads alive at one time.
    static func mostThreadsAtOnce(_ threads: [ThreadStatistics]) -> Int {
        mostAliveAtOnce(threads.map { ($0.startNanoseconds, $0.lifetimeNanoseconds) })
    }

    /// The most of these lives that overlapped; one that ends where another starts does not
    /// overlap it (a worker replaced at once is not two alive).
    static func mostAliveAtOnce(_ lives: [(start: UInt64, lifetime: UInt64)]) -> Int {
        var edges: [(time: UInt64, change: Int)] = []
        edges.reserveCapacity(lives.count * 2)
        for life in lives {
            edges.append((life.start, 1))
            edges.append((life.start.adding(saturating: life.lifetime), -1))
        }
        var alive = 0, most = 0
        for edge in edges.sorted(by: { ($0.time, $0.change) < ($1.time, $1.change) }) {
            alive += edge.change
            most = max(most, alive)
        }
        return most
    }

    private static func summary(_ path: CriticalPath, tables: TraceTables, locks: [LockStatistics]) -> CriticalPathSummary {
        let threads = path.threadNanoseconds.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(10).compactMap { entry -> CriticalPathSummary.ThreadShare? in
            guard tables.threads.indices.contains(entry.key) else { return nil }
            let t = tables.threads[entry.key]
            let pid = tables.processes.indices.contains(t.process) ? tables.processes[t.process].pid : 0
            return .init(tid: t.tid, pid: pid, name: t.name, nanoseconds: entry.value)
        }
        let lockShares = path.lockHandOffs.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(10).map { entry in
            let stats = locks.first { $0.index == entry.key }
            return CriticalPathSummary.LockShare(lock: stats?.name ?? "lock \(entry.key)", pid: stats?.pid ?? 0, handOffs: entry.value)
        }
        return CriticalPathSummary(lengthNanoseconds: path.lengthNanoseconds, threads: Array(threads), locks: lockShares,
                                   waitsForOthers: path.joins)
    }
}
