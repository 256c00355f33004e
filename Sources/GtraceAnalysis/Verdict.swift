import Foundation
import GtraceFormat

/// The one resource that limited a run, with the numbers behind it
/// (docs/METRICS.md, "Verdict": the rule table).
public struct Limit: Sendable, Codable {
    /// The rule that applied: "foreign load", "GIL", "lock", "cores", "waiting", "invisible waits",
    /// "busy process", "one busy thread", "cpu quota", "serial parts".
    public var kind: String
    /// The number of the rule in the table (1 = checked first).
    public var rule: Int
    /// The limit in a few words, for the comparison of runs ("the GIL: held 99% …").
    public var summary: String
    /// The numbers the rule looked at.
    public var numbers: [String: Double]
}

/// Plain-language conclusions drawn from an analysis: what limited the run.
public enum Verdict {
    /// Thresholds of the rules (docs/METRICS.md, "Verdict").
    static let foreignCPUShare = 0.5
    static let foreignWallShare = 0.3
    static let foreignNoteShare = 0.1
    /// Steal (hypervisor) above this share of the machine's CPU time gets a sentence.
    static let stealNoteShare = 0.02
    static let gilBoundHeldRatio = 0.8
    static let gilWaiters = 0.5
    static let gilFreeHeldRatio = 0.5
    static let lockSerialFraction = 0.3
    static let coresBusy = 0.8
    /// Above this parallelism the other cores were busy most of the time: not "one busy thread".
    static let oneBusyParallelism = 1.5
    /// From this share of the CPU time on, the busiest thread did "the work: it is not split".
    static let oneThreadShare = 0.9
    /// Below this share a single worker did not do "most of the work": a server's thread per
    /// request beside a client pool, the busiest at 18% and each other under 9%, was "One busy
    /// thread did most of the work (18% …)" while 2 client threads ran 1.3× faster than 1.
    static let oneBusyShare = 0.5
    /// From this share of the CPU time on, a process with several threads is the parallel part: its threads, not the processes, ran in parallel.
    static let oneProcessShare = 0.75
    static let waitingShare = 0.5
    static let waitingPathRatio = 0.5
    /// Rule 3 by the critical path needs this share of the threads' time in waits their
    /// states show: sleeping, I/O, children, locks, futex words or condition variables.
    static let waitingSeenShare = 0.2
    static let invisibleShare = 0.3
    static let whatIfGain = 1.05
    /// GIL waits beside one busy thread, as a share of the wall time, named when the replay cannot weigh them.
    static let gilWaitMention = 0.1
    /// Waits of ≥ 1 ms per waiting thread (median) that make it a pool's worker.
    static let poolWaits = 3.0
    /// Rule 2b: threads waiting for one lock on average, and the hand-overs that show a queue.
    static let queuedWaiters = 0.5
    static let sharedWaiters = 0.25
    static let queuedHandOffs = 3

    public struct Decision: Sendable {
        public var limit: Limit
        public var sentences: [String]
        public var whatIf: Prediction?
    }

    /// Compatibility: the sentences only.
    public static func sentences(for a: TraceAnalysis, cpus: Int) -> [String] { decide(a).sentences }

    /// The parallelism figure every sentence uses, with its source.
    static func parallelismText(_ a: TraceAnalysis) -> (value: Double, text: String) {
        if let p = a.parallelism {
            return (p.averageParallelism, String(format: "parallelism %.2f (%@ ÷ wall time)", p.averageParallelism, p.cpuSource))
        }
        let w = a.summary.wallNanoseconds
        let v = w == 0 ? 0 : Double(a.summary.cpuNanoseconds) / Double(w)
        return (v, String(format: "parallelism %.2f (user + system time (getrusage) ÷ wall time)", v))
    }

    /// Threads that spent at least half their time sleeping, in I/O or waiting for
    /// children, and the median number of such calls (≥ 1 ms on average) they made.
    static func sequentialWaits(_ a: TraceAnalysis) -> (threads: Int, waitsPerThread: Double)? {
        // Threads that lived a fifth of the run or more: a server's thread per request
        // (one sleep each) would otherwise outvote the pool that made the requests.
        let longLived = a.summary.wallNanoseconds / 5
        let counts = a.threads.compactMap { t -> Int? in
            guard let s = t.states, s.totalNanoseconds > 0, t.lifetimeNanoseconds >= longLived else { return nil }
            let waited = [s.sleepingNanoseconds, s.ioNanoseconds, s.childWaitNanoseconds].saturatingSum
            guard waited >= s.totalNanoseconds / 2 else { return nil }
            // Not semaphores and joins: an idle pool worker waits for its next item in one.
            return t.blockingCalls.filter { $0.count > 0 && $0.totalNanoseconds / UInt64($0.count) >= 1_000_000
                && !$0.call.hasPrefix("sem_") && !$0.call.hasPrefix("pthread_") }
                .reduce(0) { $0 + $1.count }
        }.sorted()
        guard !counts.isEmpty else { return nil }
        let middle = counts.count / 2
        let median = counts.count % 2 == 1 ? Double(counts[middle]) : Double(counts[middle - 1] + counts[middle]) / 2
        return (counts.count, median)
    }

    /// Threads that did at least half the busiest thread's work; the first process's main
    /// thread counts only when no other thread does (a parent that only waits is not a worker).
    /// A parent busier than its workers (a short run's start-up: seed 1 with processes at
    /// 78 ms was called "one busy thread" at parallelism 1.28) does not hide them: two or
    /// more other threads with half the busiest other's work, together at least half the
    /// parent's, are the workers. A busy main thread beside a single other busy thread is
    /// one of two workers when more than one thread ran on average (`mainWorksBesideParallelism`).
    public static func workers(_ a: TraceAnalysis) -> Int {
        max(1, workerThreads(a).count)
    }

    /// The most of the worker threads `workers` alive at one time: a shell
    /// loop's or a chain's processes may each do the same work, one after another.
    static func mostAtOnce(_ workers: [Int], _ a: TraceAnalysis) -> Int {
        max(1, Analyzer.mostThreadsAtOnce(workers.map { a.threads[$0] }))
    }

    /// Each thread's work: its on-CPU time from perf, else its CPU time.
    static func threadWork(_ a: TraceAnalysis) -> [UInt64] {
        a.threads.map { $0.states?.onCPUNanoseconds ?? $0.cpuNanoseconds ?? 0 }
    }

    /// Parallelism from which a busy main thread beside a single busy thread counts as a worker.
    static let mainWorksBesideParallelism = 1.2

    /// The indices of the worker threads (see `workers`).
    static func workerThreads(_ a: TraceAnalysis) -> [Int] {
        let work = threadWork(a)
        let busiest = work.max() ?? 0
        guard busiest > 0 else { return a.threads.isEmpty ? [] : [0] }
        let rootMain = a.threads.firstIndex { $0.process == 0 && $0.tid == $0.pid }
        let otherIndices = a.threads.indices.filter { $0 != rootMain }
        let busiestOther = otherIndices.map { work[$0] }.max() ?? 0
        let busyOthers = otherIndices.filter { busiestOther > 0 && work[$0].multiplied(saturating: 2) >= busiestOther }
        if busyOthers.count >= 2, busyOthers.map({ work[$0] }).saturatingSum.multiplied(saturating: 2) >= (rootMain.map { work[$0] } ?? 0) {
            return busyOthers
        }
        let busy = a.threads.indices.filter { work[$0].multiplied(saturating: 2) >= busiest }
        let others = busy.filter { $0 != rootMain }
        // A busy main thread beside one other busy thread, with more than one thread on a CPU
        // on average, worked beside it: `sort --parallel=2` (the main thread sorts half) was
        // "Serial parts: 1 workers on 2 cores reached parallelism 1.58".
        if others.count == 1, let rootMain, busy.contains(rootMain),
           (a.parallelism?.averageParallelism ?? 0) >= Self.mainWorksBesideParallelism {
            return busy
        }
        return others.isEmpty ? busy : others
    }

    /// Share of the threads' time of multithreaded processes spent off the CPU in waits no
    /// wrapper recorded ("other off-CPU", perf only): futex locks of Rust, Go or Java, and the like.
    /// The analysis's own measure (InvisibleWaits.swift) when it has one.
    static func invisibleWaitShare(_ a: TraceAnalysis) -> Double? {
        if let unseen = a.invisibleWaits { return unseen.threadNanoseconds > 0 ? unseen.shareBeyondRecording : nil }
        guard a.summary.scheduling == "perf" else { return nil }
        let multithreaded = Set(a.processes.filter { $0.threadCount > 1 }.map(\.index))
        let states = a.threads.filter { multithreaded.contains($0.process) }.compactMap(\.states)
        let total = states.map(\.totalNanoseconds).saturatingSum
        guard total > 0 else { return nil }
        return Double(states.map(\.otherOffCPUNanoseconds).saturatingSum) / Double(total)
    }

    /// A run that used this share of its cgroup's CPU quota on average is limited by it.
    static let quotaUsed = 0.8

    /// "1 core", "2 cores".
    public static func coreCount(_ n: Int) -> String { n == 1 ? "1 core" : "\(n) cores" }

    public static func decide(_ a: TraceAnalysis) -> Decision {
        let p = a.parallelism
        let cores = max(p?.cores ?? 1, 1)
        let (parallelism, parallelismText) = Self.parallelismText(a)
        // The run kept the cores busy: rule 6 says the cores limit it, and the lock rules
        // that look at queues (2c, 2d, 2e) step aside.
        let coresKeptBusy = parallelism >= coresBusy * Double(cores)
        let wall = Double(max(a.summary.wallNanoseconds, 1))
        let cpu = Double(p?.cpuNanoseconds ?? a.summary.cpuNanoseconds)
        let fits = p?.replayFit?.fits ?? false
        let foreign = p?.foreignLoad
        let workerThreads = Self.workerThreads(a)
        let workers = max(1, workerThreads.count)
        let workersAtOnce = workers > 1 ? Self.mostAtOnce(workerThreads, a) : 1
        // Each thread's work, and the busiest thread's share of it. One worker under half of it
        // (none other half as busy) is many small threads (a server's thread per request), not
        // one busy thread (rule 4) nor "1 worker" (rule 8).
        let work = threadWork(a)
        // Of the tree's getrusage time when perf saw a fifth less (its blind spot: each thread's exit).
        let whole = max(work.saturatingSum, p?.perfShortfallNanoseconds != nil ? a.summary.cpuNanoseconds : 0)
        let busiestShare = Double(work.max() ?? 0) / Double(max(whole, 1))
        let spreadWork = workers == 1 && busiestShare < oneBusyShare
        let states = a.threads.compactMap(\.states)
        // The threads' own time: runnable time (waiting for a CPU) depends on the machine, not the program.
        let alive = Double(states.map { $0.totalNanoseconds &- $0.runnableNanoseconds }.saturatingSum)
        let sleeping = Double(states.map(\.sleepingNanoseconds).saturatingSum)
        let io = Double(states.map(\.ioNanoseconds).saturatingSum)
        let children = Double(states.map(\.childWaitNanoseconds).saturatingSum)
        let busyProcesses = a.processes.filter { ($0.onCPUNanoseconds ?? $0.cpuNanoseconds) > 0 }.count
        // Whose parallelism it was: a process with several threads that did most of the
        // CPU work ran in parallel with itself, whatever ran around it (a launcher script).
        let busiest = a.processes.max { ($0.onCPUNanoseconds ?? $0.cpuNanoseconds) < ($1.onCPUNanoseconds ?? $1.cpuNanoseconds) }
        let threadsOfOneProcess = busiest.map { $0.threadCount > 1 && Double($0.onCPUNanoseconds ?? $0.cpuNanoseconds) >= Self.oneProcessShare * max(cpu, 1) } ?? false

        func prediction(_ prefix: String, cores c: Int) -> Prediction? {
            p?.predictions.first { $0.scenario.hasPrefix(prefix) && $0.cores == c && $0.stuckThreads == 0 }
        }
        // A what-if's baseline: the recording replayed as it was on the run's own cores of an
        // idle machine (predictions drop foreign time), but never more than the measured wall
        // time: where the replay's scheduler runs slower than the kernel did (xz -T2: 8.07 s
        // replayed on 2 cores for 6.97 s measured), the gain of a what-if would be the model's
        // error (a "1.16× with more cores" that the 4-core replay, 6.95 s, does not give).
        func baseline() -> (wall: UInt64, measured: Bool)? {
            guard let base = prediction("as recorded", cores: cores) else { return nil }
            let measured = a.summary.wallNanoseconds
            return measured > 0 && measured < base.wallNanoseconds ? (measured, true) : (base.wallNanoseconds, false)
        }
        func gain(_ w: Prediction) -> Double {
            guard let base = baseline(), w.wallNanoseconds > 0 else { return w.speedup }
            return Double(base.wall) / Double(w.wallNanoseconds)
        }
        func whatIfText(_ w: Prediction, _ what: String) -> String {
            // The ratio and the time it divides are the same baseline. The self-replay, with
            // the machine's load, is named when it differs.
            let c = w.cores ?? cores
            guard let base = baseline(), w.wallNanoseconds > 0 else {
                return String(format: "%@ the replay predicts %@ on %d cores (%.2f× the recording replayed as it was).",
                              what, duration(w.wallNanoseconds), c, w.speedup)
            }
            let ratio = gain(w)
            let loaded = p?.replayOfRecording?.wallNanoseconds ?? base.wall
            let than = base.measured
                ? String(format: "than the run as measured (%@)", duration(base.wall))
                : loaded > base.wall + base.wall / 20
                ? String(format: "than the recording replayed as it was on an idle machine (%@; with this run's waits for a CPU%@: %@)", duration(base.wall),
                         // The machine's idle counters can rule other programs out (ForeignLoad.confirmed).
                         p?.foreignLoad?.mostlyByRecorder == true ? ", while gtrace's recorder held one"
                            : p?.foreignLoad?.byRecorder == true ? ", while gtrace's recorder and other work held one"
                            : p?.foreignLoad?.undetermined == true ? ", while other work held a CPU or one idled"
                            : p?.foreignLoad?.confirmed == false ? ", while a CPU idled" : ", when other programs held them", duration(loaded))
                : String(format: "than the recording replayed as it was (%@)", duration(base.wall))
            return String(format: "%@ the replay predicts %@ on %d cores: %.2f× faster %@. %@",
                          what, duration(w.wallNanoseconds), c, ratio, than, cpuCostCaveat)
        }
        /// The "without the GIL" what-if, with the processes' start-up caveat on a short run.
        func asProcessesText(_ w: Prediction) -> String {
            let text = whatIfText(w, "As processes (without the GIL)")
            guard let base = baseline(), base.wall < processStartNoteWall else { return text }
            return text + " " + processStartCaveat
        }

        var limit: Limit?
        var sentences: [String] = []
        var whatIf: Prediction?
        var whatIfSentence: String?

        // 2f (checked first). Processes that waited for one busy process they exchanged
        // messages with (Verdict+BusyProcess.swift): a lock they shared while waiting passes
        // that wait on and is not the limit, and the busy one's threads under its GIL (rule 1)
        // are multiprocessing's own (a pool's task and result handlers), said in its sentence.
        if limit == nil, let b = busyProcess(a), !coresKeptBusy || busyProcessKeptTheCoresBusy(a, b) {
            limit = Limit(kind: "busy process", rule: 2,
                          summary: b.pipeline != nil
                              ? String(format: "%@, a pipeline's stage: %.2f CPUs on average while the stages around it waited for it",
                                       processLabel(b.busy), b.busy.busyness.parallelism)
                              : String(format: "process %d: %.2f CPUs on average while the %d %@ it exchanged work with waited for it",
                                       b.busy.pid, b.busy.busyness.parallelism, b.waiting.count, b.waiting.count == 1 ? "process" : "processes"),
                          numbers: ["pid": Double(b.busy.pid), "parallelism": b.busy.busyness.parallelism,
                                    "waitingProcesses": Double(b.waiting.count),
                                    "messages": Double(b.messages)])
            sentences.append(busyProcessText(a, b, parallelism: parallelismText))
        }

        // 1. CPU-bound threads under a GIL.
        if limit == nil {
            let candidates = a.gil.filter(\.traced).compactMap { g -> (GILStatistics, Int, Double)? in
                // Threads that ran a real share of the Python code: a main thread that only
                // started one worker and waits to join it does not make the work parallel.
                let holding = a.threads.filter { $0.process == g.process }.map { $0.gil?.holdingNanoseconds ?? 0 }
                let most = holding.max() ?? 0
                // No product: hostile times reach 2^62. When threads took turns, with W waiting on
                // average at least W + 1 did (a main thread's serial work before and after a pool
                // outweighs each worker's share: "2 threads took turns … 2.7 waiting"). Waiters
                // alone are no turns: a worker in one long C call (sum(range(n))) keeps the GIL
                // while main waits for it the whole time.
                var sharing = holding.filter { $0 > 0 && $0 >= most / 4 }.count
                // A server's thread per request each holds it less than a quarter of its
                // accepting thread does, and all of them together longer: they took turns too
                // (ThreadingHTTPServer, 40 requests: 18 ms each against the main's 111 ms).
                // Not when one thread held it most of the time (a `sorted()` beside short
                // loops: one busy thread).
                if sharing < 2, holding.saturatingSum - most >= most { sharing = holding.filter { $0 > 0 }.count }
                let waiting = g.averageWaiters.isFinite ? Int(min(g.averageWaiters.rounded(.up), 1e6)) + 1 : 0
                let threads = sharing >= 2 ? max(sharing, min(waiting, holding.filter { $0 > 0 }.count)) : sharing
                guard threads >= 2, let held = g.heldRatioMultithreaded, held >= gilBoundHeldRatio, g.averageWaiters >= gilWaiters
                else { return nil }
                return (g, threads, held)
            }
            if let (g, threads, held) = candidates.max(by: { $0.0.averageWaiters < $1.0.averageWaiters }) {
                limit = Limit(kind: "GIL", rule: 1,
                              summary: String(format: "the GIL: held %.0f%% of the time with %.1f threads waiting; processes would run in parallel",
                                              held * 100, g.averageWaiters),
                              numbers: ["heldRatio": held, "averageWaiters": g.averageWaiters, "threads": Double(threads), "pid": Double(g.pid)])
                sentences.append(String(format: "CPU-bound Python under the GIL: %d threads of process %d took turns running Python (the GIL was held %.0f%% of the time while several threads existed, %.1f threads waiting for it on average), so they did not run in parallel; %@.",
                                        threads, g.pid, held * 100, g.averageWaiters, parallelismText))
                if let w = prediction("without the GIL", cores: cores), gain(w) >= whatIfGain {
                    whatIf = w
                    whatIfSentence = asProcessesText(w)
                    if let caveat = pyMutexHoldsCaveat(g) ?? semaphoreCaveat(a) { whatIfSentence! += " " + caveat }
                    if let base = baseline(),
                       let shared = sharedObjects(a, pid: g.pid, saved: base.wall > w.wallNanoseconds ? base.wall - w.wallNanoseconds : 0) {
                        whatIfSentence! += " " + shared
                    }
                } else if fits, let w = prediction("without the GIL", cores: cores), let base = baseline() {
                    // Processes would not run faster: the summary must not say they would.
                    // A replay that does not fit predicts nothing, this included (said below).
                    limit?.summary = String(format: "the GIL: held %.0f%% of the time with %.1f threads waiting; as processes the replay predicts no gain",
                                            held * 100, g.averageWaiters)
                    sentences.append(noGainAsProcesses(a, pid: g.pid, w, baseline: base.wall, measured: base.measured, cores: cores))
                }
            }
        }

        // 2. A serialising lock (not a GIL).
        if limit == nil, let s = p?.serialised, !s.resource.hasPrefix("GIL"), s.serialFraction >= lockSerialFraction,
           let lock = a.locks.first(where: { $0.name == s.resource && $0.pid == s.pid }) {
            limit = Limit(kind: "lock", rule: 2,
                          summary: String(format: "lock %@: %.0f%% of the work ran inside it while others waited (at most %.2f× parallelism with unlimited cores)",
                                          s.resource, s.serialFraction * 100, p?.bound?.value ?? s.amdahlBound),
                          numbers: ["serialFraction": s.serialFraction, "serialisedNanoseconds": Double(s.nanoseconds),
                                    "waitRatio": lock.waitRatio])
            // Spinning for spinlocks (perf) is a wait: the share is of the CPU time less it.
            let ofWhat = p?.spinningNanoseconds.map { "of the CPU time less the \(duration($0)) threads spent spinning for spinlocks" } ?? "of the CPU time"
            sentences.append(String(format: "Lock %@ (pid %d) serialises the work: its holders ran %@ on a CPU while other threads waited for it, %.0f%% %@, with %.2f threads waiting on average and %.0f%% of its acquisitions contended; %@.",
                                    s.resource, s.pid, duration(s.nanoseconds), s.serialFraction * 100, ofWhat, lock.waitRatio,
                                    lock.contendedPercent, parallelismText)
                             // A spinlock's waiters stay on a CPU: the parallelism counts their spinning as work.
                             + (lock.kind != LockKind.spinlock.label ? ""
                                : p?.spinningNanoseconds != nil ? " It is a spinlock: its waiters spun on a CPU, which the parallelism counts and the share and the limit leave out."
                                : " It is a spinlock: its waiters spun on a CPU, and without perf gtrace cannot tell for how long, so the parallelism, the share and the limit count that spinning as work."))
            if let w = p?.predictions.first(where: { $0.scenario == "without lock \(s.resource)" && $0.stuckThreads == 0 }),
               gain(w) >= whatIfGain {
                whatIf = w
                whatIfSentence = whatIfText(w, "Without it")
            }
        }

        // 2b. A lock the threads queue on though little CPU work runs under it (rule 2
        // counts CPU only): held across sleeps or I/O, its holds do not overlap, nor
        // do the waits under it.
        if limit == nil, let lock = queuedLock(a, coresKeptBusy: coresKeptBusy) {
            limit = Limit(kind: "lock", rule: 2,
                          summary: String(format: "lock %@: %.2f threads waited for it on average", lock.name, lock.waitRatio),
                          numbers: ["waitRatio": lock.waitRatio, "holdRatio": lock.holdRatio, "serialFraction": p?.serialised?.serialFraction ?? 0])
            let waited = String(format: "%.2f threads waited for it on average (%d waits, %@ in all)",
                                lock.waitRatio, lock.waitCount, duration(lock.waitTotalNanoseconds))
            let what = lock.futex != nil
                ? waited + "; its holds are not seen (waits only), so what runs under it is not known"
                : String(format: "it was held %.0f%% of the wall time and ", lock.holdRatio * 100) + waited
                    + String(format: ", though less than %.0f%% of the CPU work ran inside it: ", lockSerialFraction * 100) + holdersWaited(lock)
            sentences.append(String(format: "Lock %@ (pid %d) serialises the threads: %@. More threads would queue on it too (it is one process's: each process of a multi-process version has its own); holding it for less time would let them overlap; %@.",
                                    lock.name, lock.pid, what, parallelismText))
            if let w = p?.predictions.first(where: { $0.scenario == "without lock \(lock.name)" && $0.stuckThreads == 0 }),
               gain(w) >= whatIfGain {
                whatIf = w
                whatIfSentence = whatIfText(w, "Without it")
            }
        }

        // 2c. A lock shared by processes (a multiprocessing lock, a process-shared
        // mutex): each process has its own row of it, and rules 2 and 2b, which
        // look at one process, see waits with no holder. Not when the processes kept
        // the cores busy: then the cores limit them, whoever queues on the lock (two
        // workers of a multiprocessing.Queue, whose feeder threads queue on the result
        // queue's lock while holding it waits for their own GIL: "serialises them" at
        // parallelism 1.64 on 2 cores, and 2 workers ran 1.8x faster than 1).
        if limit == nil, !coresKeptBusy, let shared = sharedLock(a) {
            let wall = max(a.summary.wallNanoseconds, 1)
            // Over the span it was in use when that is clearly shorter than the run.
            let inUse = Double(shared.span) < 0.9 * Double(wall)
            let over = inUse ? max(shared.span, 1) : wall
            let held = Double(shared.holds) / Double(over), waiting = Double(shared.outsideWaits) / Double(over)
            let ofWhat = inUse ? "of the \(duration(shared.span)) from its first acquisition to its last release" : "of the wall time"
            limit = Limit(kind: "lock", rule: 2,
                          summary: String(format: "lock %@ shared by %d processes: held %.0f%% of the time%@, %.2f processes waiting for it",
                                          shared.name, shared.pids.count, held * 100, inUse ? " it was in use" : "", waiting),
                          numbers: ["holdRatio": held, "waitRatio": waiting, "processes": Double(shared.pids.count)])
            let object = shared.kind == LockKind.fileLock.label ? "flock() or fcntl() locks on the same file in each"
                : shared.address.isEmpty ? "one \(shared.kind) in shared memory, mapped at another address in each"
                : "the same \(shared.kind) at \(shared.address) in each, in shared memory"
            // What its holders waited for while holding it: a multiprocessing.Pool's workers
            // hold their task queue's lock while they read the next task from the parent.
            let under = holdersWaited(hold: shared.holds, gil: shared.holderGIL, blocked: shared.holderBlocked, byCall: shared.holderBlockedByCall,
                                      oneAtATime: "process")
            // Waiters that poll it (a try, a sleep, a try) take it up to a sleep after it is free.
            let polled = shared.busyTries > 0
                ? String(format: "; they polled it: %d tries found it taken, and a poller sleeps between tries, so it gets the lock up to a sleep after it is free", shared.busyTries)
                : ""
            sentences.append(String(format: "Lock %@, shared by %d processes (pids %@: %@), serialises them: it was held %.0f%% %@ (%@ of holds in all) while %.2f processes on average waited for another process to release it (%d waits, %@ in all%@); %@. More processes would queue on it too; holding it for less time would let them overlap; %@.",
                                    shared.name, shared.pids.count,
                                    shared.pids.prefix(6).map(String.init).joined(separator: ", ") + (shared.pids.count > 6 ? ", …" : ""),
                                    object,
                                    held * 100, ofWhat, duration(shared.holds), waiting, shared.waits, duration(shared.outsideWaits), polled, under, parallelismText))
        }

        // 2d. Java threads queued in the JVM: HotSpot parks each thread on its own condition
        // variable, so no lock row stands for the Java object; the frame above the park
        // says a contended synchronized entry or java.util.concurrent's park.
        // One thread parked on the others (main waiting for a future) is a join, and busy
        // cores are the limit of their own (rule 6).
        if limit == nil, !coresKeptBusy, let jvm = a.jvmMonitors,
           let group = [jvm.monitorEntry, jvm.park].filter({ $0.waits >= queuedHandOffs && $0.threads >= 2 })
               .max(by: { $0.waitNanoseconds < $1.waitNanoseconds }),
           Double(group.waitNanoseconds) / wall >= queuedWaiters {
            let waiting = Double(group.waitNanoseconds) / wall
            let synchronized = group.name == jvm.monitorEntry.name
            limit = Limit(kind: "lock", rule: 2,
                          summary: String(format: "Java threads queued in %@: %.2f waiting on average", group.name, waiting),
                          numbers: ["waitRatio": waiting, "waits": Double(group.waits), "waitNanoseconds": Double(group.waitNanoseconds)])
            let what = synchronized
                ? String(format: "%.2f threads on average waited to enter a contended synchronized block or method (%d waits, %@ in all, at %@). More threads would queue on it too; holding it for less time would let them overlap",
                         waiting, group.waits, duration(group.waitNanoseconds), group.sites.first ?? "ObjectMonitor::EnterI")
                : String(format: "%.2f threads on average were parked in java.util.concurrent until another thread woke them (LockSupport.park: a lock such as ReentrantLock, a blocking queue, a future or a latch; %d parks, %@ in all)",
                         waiting, group.waits, duration(group.waitNanoseconds))
            sentences.append(String(format: "Java threads waited for each other: %@. HotSpot parks each thread on its own condition variable, so gtrace cannot name the Java object (the JVM waits table groups the waits); %@.",
                                    what, parallelismText))
        }

        // 3. Waiting: sleeping, I/O, children (without thread states: a GIL mostly free).
        let freeGIL = a.gil.filter(\.traced).compactMap { g -> Double? in
            let threads = a.threads.filter { $0.process == g.process && ($0.gil?.holdingNanoseconds ?? 0) > 0 }.count
            guard threads >= 2, let held = g.heldRatioMultithreaded, held < gilFreeHeldRatio else { return nil }
            return held
        }.max()
        let waitingShare = alive > 0 ? (sleeping + io + children) / alive : nil
        // The criterion: the critical path (unlimited cores) is at least twice the CPU time, so
        // most of it is waiting no CPU can shorten. Waits for children or pipes that are busy
        // themselves, and time spent runnable on a loaded machine, do not count then. Without a
        // replay: the share of the threads' own time spent sleeping or in I/O.
        let pathRatio = p?.bound?.criticalPathBound
        let ownWaiting = alive > 0 ? (sleeping + io) / max(alive - children, 1) : nil
        // Waits for locks and futex words are not in that share (rule 2 and 2b judge them).
        let lockWaits = Double(a.threads.map(\.waitingNanoseconds).saturatingSum)
        let conditionWaits = Double(a.threads.map(\.conditionWaitNanoseconds).saturatingSum)
        let waits: Bool = {
            // A critical path of waits the threads states do not show as sleeping, I/O,
            // children or locks (a 2 ms run of thread starts) is not "waiting" either:
            // "The threads spent 0% of their time waiting, mostly sleeping" said nothing true.
            if pathRatio != nil, let waitingShare, alive > 0, waitingShare + (lockWaits + conditionWaits) / alive < Self.waitingSeenShare { return false }
            if let pathRatio { return pathRatio <= Self.waitingPathRatio }
            if let ownWaiting { return ownWaiting >= Self.waitingShare }
            return freeGIL != nil
        }()
        if limit == nil, waits {
            let share = waitingShare ?? 0
            let biggest = [("sleeping", sleeping), ("in I/O", io), ("waiting for child processes", children)].max { $0.1 < $1.1 }?.0 ?? "waiting"
            let processes = busyProcesses > 1 && a.processes.filter({ $0.threadCount > 1 }).isEmpty
            limit = Limit(kind: "waiting", rule: 3,
                          summary: String(format: "waiting: its threads spent %.0f%% of their time sleeping, in I/O or waiting for children", share * 100),
                          numbers: ["waitingShare": share, "cpuPerCriticalPath": pathRatio ?? -1, "sleeping": sleeping / max(alive, 1), "io": io / max(alive, 1),
                                    "children": children / max(alive, 1), "gilHeldRatio": freeGIL ?? -1])
            let gil = freeGIL.map { String(format: " The GIL was mostly free (held %.0f%% of the time while several threads existed).", $0 * 100) } ?? ""
            // When no lock rule applied but lock waits are a large part of the threads' time, say so,
            // lest the sentence read as if the rest of the time ran (raw_futex: workers woken by a sleeping thread).
            let lockWaitText = alive > 0 && lockWaits / alive >= Self.lockWaitMention
                ? String(format: " Another %.0f%% went to waiting for locks or futex words, which the threads that release or wake them let go%@.",
                         min(1, lockWaits / alive) * 100, pythonLockWaitPlaces(a, of: lockWaits).map { ": " + $0 } ?? " (the lock and futex tables name them)") : ""
            // Condition waits are not in either share: Ruby threads sleep in timed condition
            // waits ("11% of their time waiting, mostly in I/O" for threads that slept 90%).
            let conditionWaitText = alive > 0 && conditionWaits / alive >= Self.lockWaitMention
                ? String(format: " Another %.0f%% went to condition-variable waits (until another thread signalled, or timed: some runtimes sleep this way).",
                         min(1, conditionWaits / alive) * 100) : ""
            let what = (waitingShare == nil ? "The threads spent their time blocked, sleeping or in C code that releases the GIL."
                : String(format: "The %@ spent %.0f%% of their time waiting, mostly %@.", processes ? "processes" : "threads", share * 100, biggest))
                + lockWaitText + conditionWaitText
            // Waiting threads that each went through several waits one after another work
            // through items (a pool, a loop): more of them would overlap more waits. One
            // wait each (seeds 2 and 7) is all the work there is.
            // Not when much of the thread time is in waits gtrace cannot see: a lock behind them
            // would hold more workers back too (sqlite3 writers sleep in its busy handler while
            // another holds the database's byte-range lock and syncs it: 600 inserts took 0.59 s
            // on 2 threads, 0.61-0.63 s on 3 and 0.66-0.68 s on 4).
            let unseen = a.invisibleWaits?.isSignificant ?? false
            let pool = unseen ? nil : sequentialWaits(a).flatMap { $0.waitsPerThread >= Self.poolWaits ? $0 : nil }
            let more = pool.map {
                ($0.threads == 1 ? String(format: " Its waiting thread waited %.0f times, one wait after another", $0.waitsPerThread)
                    : String(format: " Each of its %d waiting threads waited %.0f times (median), one wait after another", $0.threads, $0.waitsPerThread))
                    + ": more workers (a bigger pool) would overlap more of the waits, if the work can be split further."
            } ?? ""
            if waitingShare != nil && a.processes.count == 1 && a.threads.count == 1 {
                sentences.append(String(format: "One thread spent %.0f%% of its time waiting, mostly %@: nothing ran meanwhile; threads or processes would overlap the waits; %@.",
                                        share * 100, biggest, parallelismText))
            } else if processes {
                sentences.append(what + String(format: " Neither cores nor a GIL limit them; %@.", parallelismText) + more)
            } else {
                sentences.append(what + gil + String(format: " Their waits overlap, so threads are the right tool and processes would take as long; %@.", parallelismText) + more)
            }
        }

        // 3b. A cgroup CPU quota the run used up (a container's --cpus): no core count explains it.
        if limit == nil, let quota = a.summary.cpuQuota, parallelism >= quotaUsed * quota {
            limit = Limit(kind: "cpu quota", rule: 3,
                          summary: String(format: "the cgroup's CPU quota: %.2f CPUs, %.2f used on average", quota, parallelism),
                          numbers: ["parallelism": parallelism, "cpuQuota": quota,
                                    "throttledNanoseconds": Double(a.summary.cpuThrottledNanoseconds ?? 0)])
            let throttled = a.summary.cpuThrottledNanoseconds.map { String(format: "; the quota held its threads back for %@ (throttled, summed over CPUs)", duration($0)) } ?? ""
            sentences.append(String(format: "Limited by its cgroup's CPU quota: the cgroup lets it use %.2f CPUs' time (cpu.max or cpu.cfs_quota_us: a container's --cpus, a Kubernetes CPU limit), and it used %@%@. More cores would not help; a larger quota would. The replay does not model the quota.",
                                    quota, parallelismText, throttled))
        }

        // 4. One busy thread (more cores would not help it, loaded machine or not).
        // Workers that each lived after the last had ended (a loop of processes) are one at a time.
        // Threads that ran at once (Go's goroutines move between threads: two threads each busy
        // the whole run) are not one busy thread, whichever thread the work was counted to.
        // Without any thread's CPU time (no perf, no thread clocks) nothing says which thread was busy.
        if limit == nil, workersAtOnce <= 1, parallelism < oneBusyParallelism, (work.max() ?? 0) > 0, !spreadWork {
            // The other threads of its process may have waited for the GIL it held: two threads,
            // one sorting (sorted() holds the GIL for 60 ms a call) and one summing, were "The GIL
            // does not limit it" while the second waited 186 ms of its 223 for the GIL, and the
            // replay predicted 1.10× without it.
            let busiest = work.indices.max { work[$0] < work[$1] }
            let ownProcess = busiest.map { a.threads[$0].process }
            let sameProcess = a.threads.indices.filter { $0 != busiest && a.threads[$0].process == ownProcess }
                .compactMap { a.threads[$0].gil?.waitingNanoseconds }.saturatingSum
            // A busy thread outside Python (a child of a Python parent): the tree's GIL waits.
            let (gilWait, waiters) = sameProcess > 0 ? (sameProcess, "Its other threads")
                : (a.threads.indices.filter { $0 != busiest }.compactMap { a.threads[$0].gil?.waitingNanoseconds }.saturatingSum, "Other threads")
            let python: String
            if a.gil.filter(\.traced).isEmpty {
                python = ""
            } else if fits, let w = prediction("without the GIL", cores: cores), gain(w) >= whatIfGain {
                python = String(format: " %@ waited %@ for the GIL meanwhile.", waiters, duration(gilWait))
                if whatIf == nil {
                    whatIf = w
                    // Measured: the same two functions in two forked processes took 0.29-0.32 s,
                    // the threads 0.28-0.29 s (the replay's 1.10× is the GIL's cost alone).
                    whatIfSentence = asProcessesText(w)
                }
            } else if !fits, Double(gilWait) >= Self.gilWaitMention * Double(max(a.summary.wallNanoseconds, 1)) {
                python = String(format: " %@ waited %@ for the GIL meanwhile; %@, so what the GIL cost is not predicted.", waiters, duration(gilWait),
                                p?.replayFit == nil ? "the run was not replayed" : "the replay does not fit")
            } else if fits, let w = prediction("without the GIL", cores: cores), let base = baseline(),
                      Double(gilWait) >= Self.gilWaitMention * Double(max(a.summary.wallNanoseconds, 1)) {
                // The waits were real even when removing them gains little: "The GIL does not
                // limit it" was said of a thread of short loops that waited most of its life
                // beside a sorting thread, in a loaded run whose no-GIL replay gained 1.04×.
                python = String(format: " %@ waited %@ for the GIL meanwhile; without it the replay predicts %@ against %@ (%.2f×, under the %.2f× it calls a gain), so the GIL costs this run little.",
                                waiters, duration(gilWait), duration(w.wallNanoseconds), duration(base.wall), gain(w), Self.whatIfGain)
            } else {
                python = " The GIL does not limit it."
            }
            let idle = cores == 2 ? "the other core" : cores > 2 ? "the other \(cores - 1) cores" : "nothing else"
            // Which of several processes it ran in (a shell pipeline's busy stage).
            let whose = busiest.flatMap { busyThreadsProcess(a, thread: $0) }.map { ", in \($0)," } ?? ""
            if workers <= 1, let unseen = a.invisibleWaits, unseen.isSignificant {
                // Waits gtrace cannot see (a Go or static program's own locks) may be the work's
                // other threads waiting their turn: whether it is split is not known.
                limit = Limit(kind: "one busy thread", rule: 4,
                              summary: String(format: "one busy thread at a time (parallelism %.2f); whether the work is split is not seen", parallelism),
                              numbers: ["parallelism": parallelism, "workers": 1])
                sentences.append(String(format: "One thread at a time was busy, so %@ idled; %@. Whether the work is split gtrace cannot tell: its threads waited in ways it does not see (below).%@",
                                        idle, parallelismText, python))
            } else if workers <= 1 {
                // The busiest thread's share of the CPU time: a pipeline whose other stages
                // are light (a Rust producer at 79%, its consumer at 19%) is split, unevenly.
                let whole = busiestShare >= oneThreadShare
                limit = Limit(kind: "one busy thread", rule: 4,
                              summary: whole ? String(format: "a single busy thread (parallelism %.2f): the work is not split", parallelism)
                                  : String(format: "a single busy thread (parallelism %.2f): it did %.0f%% of the work", parallelism, busiestShare * 100),
                              numbers: ["parallelism": parallelism, "workers": 1, "busiestShare": busiestShare])
                sentences.append(whole
                    ? String(format: "One busy thread%@ did the work: it is not split, so %@ idled; %@.%@", whose, idle, parallelismText, python)
                    : String(format: "One busy thread%@ did most of the work (%.0f%% of the CPU time; no other thread did half as much), so %@ idled most of the time; %@.%@",
                             whose, busiestShare * 100, idle, parallelismText, python))
            } else {
                limit = Limit(kind: "one busy thread", rule: 4,
                              summary: String(format: "one busy thread at a time (parallelism %.2f): %d workers one after another", parallelism, workers),
                              numbers: ["parallelism": parallelism, "workers": Double(workers), "workersAtOnce": 1])
                sentences.append(String(format: "One busy thread at a time did the work: its %d workers ran one after another, so %@ idled; %@.%@",
                                        workers, idle, parallelismText, python))
            }
        }

        // 5. Foreign load: others held the CPUs this run wanted.
        if limit == nil, let foreign, foreign.confirmed, Double(foreign.cpuNanoseconds) >= foreignCPUShare * max(cpu, 1), foreign.share >= foreignWallShare {
            limit = Limit(kind: "foreign load", rule: 5,
                          summary: String(format: "other programs: they held the CPUs for %.0f%% of the run while its threads were ready to run", foreign.share * 100),
                          numbers: ["foreignShare": foreign.share, "foreignCPUNanoseconds": Double(foreign.cpuNanoseconds), "cpuNanoseconds": cpu])
            sentences.append(String(format: "Other programs held the CPUs: for %.0f%% of the run some of its threads were ready to run while fewer than %d of them ran; others took %@ of CPU time it wanted (it used %@ itself). Measured times are inflated: rerun on a quiet machine; the replay's predictions assume an idle machine.",
                                    foreign.share * 100, cores, duration(foreign.cpuNanoseconds), duration(UInt64(exactly: cpu.rounded(.down)) ?? UInt64.max)))
        }

        // 6a. Threads that kept the cores busy mostly in the kernel, in what gtrace cannot see
        // (Verdict+UnseenKernelWork.swift): not known to be "the cores".
        if limit == nil, coresKeptBusy, let u = unseenKernelWork(a) {
            limit = Limit(kind: "kernel and unseen waits", rule: 7,
                          summary: u.kernelShare >= unseenKernelShare
                              ? String(format: "not known: the kernel took %.0f%% of the CPU time, in calls or waits gtrace cannot see", u.kernelShare * 100)
                              : String(format: "not known: a static or setuid process's threads went off the CPU %@ a second into waits gtrace cannot see",
                                       count(UInt64((u.entries?.perSecond ?? 0).rounded()))),
                          numbers: ["kernelShare": u.kernelShare, "parallelism": parallelism, "unseenEntries": Double(a.invisibleWaits?.entries ?? 0),
                                    "uninstrumentedPid": Double(u.uninstrumentedPid ?? -1)])
            sentences.append(unseenKernelWorkText(a, u, parallelism: parallelismText))
        }

        // 6. The cores.
        if limit == nil, coresKeptBusy {
            let processes = busyProcesses > 1 && !threadsOfOneProcess
            limit = Limit(kind: "cores", rule: 6,
                          summary: String(format: "the CPUs: %.2f of %@ busy on average; more cores would help", parallelism, coreCount(cores)),
                          numbers: ["parallelism": parallelism, "cores": Double(cores), "processes": Double(busyProcesses)])
            let python = !a.gil.filter(\.traced).isEmpty && !processes
            // Subinterpreters with their own GIL (3.12+, InterpreterPoolExecutor in 3.14) run
            // Python in parallel in one process: not "outside the GIL".
            let subinterpreters = a.gil.contains { $0.traced && $0.subinterpreter }
            let how = cores == 1 ? "kept it busy"
                : !python ? "ran in parallel"
                : subinterpreters ? "ran in parallel, in subinterpreters that each have a GIL of their own (or outside the GIL, in C code that releases it)"
                : "ran outside the GIL (in C code that releases it) in parallel"
            // On one core nothing runs in parallel: its work just kept that core busy.
            let subject = processes ? "processes" : "threads"
            let more = Analyzer.predictedCores.first(where: { $0 > cores }).flatMap({ prediction("as recorded", cores: $0) })
            // As many busy threads as cores (xz -T2 on 2 cores): the cores are busy, but more of
            // them would not help. Then the cores limit it only if it would start more threads
            // on more (4 threads between barriers, one with 3 times the others' work, were
            // "Limited by the cores" with a critical path of 94% of the wall time).
            if let w = more, gain(w) < whatIfGain, fits, let base = baseline(), let kept = keptWaitsCaveat(a) {
                // The prediction holds the waits gtrace did not see the end of as they were, so it
                // cannot say more cores would not help: 4 Python threads each running a Python
                // subprocess by `os.system` (libc's system() waits for its child inside libc,
                // unseen) were "more cores would not help" though the children computed in
                // parallel (0.27–0.29 s on 2 cores, 0.58 s on one).
                limit?.summary = String(format: "the CPUs: %.2f of %@ busy on average; whether more would help is not known", parallelism, coreCount(cores))
                sentences.append(String(format: "The cores were kept busy: %@ on %@, the %@ %@; whether more cores would help is not known (below).",
                                        parallelismText, coreCount(cores), subject, how))
                sentences.append(String(format: "With the waits it did not see the end of as they were, the replay predicts %@ on %d cores, against %@.",
                                        duration(w.wallNanoseconds), w.cores ?? cores, duration(base.wall)) + kept)
            } else if let w = more, gain(w) < whatIfGain, fits, let base = baseline() {
                limit?.summary = String(format: "the CPUs: %.2f of %@ busy on average; more cores would not help", parallelism, coreCount(cores))
                sentences.append(String(format: "The cores were kept busy: %@ on %@, the %@ %@; with the same %@, more cores would not help (below).",
                                        parallelismText, coreCount(cores), subject, how, subject))
                // The replay keeps the recorded threads: a program that starts one per core
                // (Go's GOMAXPROCS, a pool of os.cpu_count() workers) would start more there.
                sentences.append(String(format: "More cores would not help its %@ as recorded: the replay predicts %@ on %d cores, against %@; a program that starts a %@ per core (Go, a pool of os.cpu_count() workers) would start more there, which the replay does not model.",
                                        subject, duration(w.wallNanoseconds), w.cores ?? cores, duration(base.wall),
                                        processes ? "process" : "thread"))
            } else {
                sentences.append(String(format: "Limited by the cores: %@ on %@, the %@ %@.", parallelismText, coreCount(cores), subject, how))
                if let w = more, gain(w) >= whatIfGain {
                    whatIf = w
                    whatIfSentence = whatIfText(w, "With more cores")
                }
            }
        }

        // 7. Waits gtrace cannot see.
        if limit == nil, let invisible = invisibleWaitShare(a), invisible >= invisibleShare {
            limit = Limit(kind: "invisible waits", rule: 7,
                          summary: String(format: "waits gtrace cannot see: %.0f%% of the threads' time off a CPU in waits no wrapper recorded", invisible * 100),
                          numbers: ["invisibleShare": invisible])
            // A static C program's 4 threads on one pthread mutex were "futex-based locks of Rust,
            // Go or Java": the runtime never entered it, so none of its locks were recorded.
            let uninstrumented = a.invisibleWaits?.processes.first { !$0.instrumented && $0.blockedNanoseconds > 0 }
            let why = uninstrumented.map {
                "process \($0.pid) is static or setuid, so gtrace's runtime could not enter it and recorded none of its locks or calls, only its threads' scheduling"
            } ?? "no wrapped call: futex-based locks of Rust, Go or Java, page faults, file I/O"
            sentences.append(String(format: "The threads spent %.0f%% of their time off the CPU in waits gtrace cannot see (%@)%@; the lock table may not show what serialises them; %@.",
                                    invisible * 100, why, a.invisibleWaits?.recordingClause ?? "", parallelismText))
        }

        // 2e (checked last but serial parts). Threads that each ran a share of the work and took
        // turns waiting on condition variables paired with one mutex: a runtime that runs one
        // thread at a time and parks the others each on a condition of its own (Ruby's GVL:
        // 4 threads, "Serial parts" with no lock named).
        if limit == nil, !coresKeptBusy, let (queue, busy, waiting) = conditionTurns(a) {
            limit = Limit(kind: "lock", rule: 2,
                          summary: String(format: "mutex %@: %.2f threads waiting on its condition variables on average", queue.name, waiting),
                          numbers: ["waitRatio": waiting, "waits": Double(queue.waits), "threads": Double(queue.threads.count)])
            let ruby = queue.name.contains("libruby")
                ? " The mutex is libruby's: Ruby's global VM lock (the GVL) parks waiting threads this way and runs Ruby code in one thread at a time, so processes (fork) or Ractors would run it in parallel; threads only overlap its waits for I/O."
                : ""
            sentences.append(String(format: "Threads took turns through mutex %@ (pid %d): %d threads that each ran part of the work waited on condition variables paired with it, %.2f threads on average (%d waits, %@ in all), while %@.%@",
                                    queue.name, queue.pid, busy, waiting, queue.waits, duration(queue.waitNanoseconds), parallelismText, ruby))
        }

        // 8. Serial parts.
        if limit == nil {
            limit = Limit(kind: "serial parts", rule: 8,
                          summary: String(format: "serial parts: parallelism %.2f with %d workers on %@", parallelism, workers, coreCount(cores)),
                          numbers: ["parallelism": parallelism, "workers": Double(workers), "cores": Double(cores)])
            // The critical path is the replay's (unlimited cores), said only when the replay
            // fits: within the model's error it can come out longer than the measured run,
            // said as such.
            let path = p?.criticalPath.flatMap { c -> String? in
                guard fits else { return nil }
                let share = Double(c.lengthNanoseconds) / wall
                return share <= 1
                    ? String(format: "; the critical path is %@ (%.0f%% of the wall time)", duration(c.lengthNanoseconds), 100 * share)
                        + criticalPathThreadsText(c)
                    : String(format: "; the critical path is the whole run (the replay's, %@, is %.0f%% longer than measured: within its error)",
                             duration(c.lengthNanoseconds), 100 * (share - 1))
                        + criticalPathThreadsText(c)
            } ?? ""
            let atOnce = workersAtOnce < workers ? " (at most \(workersAtOnce) at a time)" : ""
            let who = spreadWork ? "\(work.filter { $0 > 0 }.count) threads shared the work, none half of it; on \(coreCount(cores)) they"
                : "\(workers) \(workers == 1 ? "worker" : "workers")\(atOnce) on \(coreCount(cores))"
            sentences.append(String(format: "Serial parts: %@ reached %@%@.", who, parallelismText, path))
        }

        // What-ifs only when the replay reproduces the run, and the recording is whole.
        if let loss = a.summary.loss {
            sentences.insert(lossSentence(loss, a), at: 0)
            if loss.isSignificant(recordedEvents: a.summary.eventCount) { whatIfSentence = nil }
        }
        if let fit = p?.replayFit, !fit.fits {
            whatIf = nil
            var s = String(format: "The replay does not fit this run (the recording replays in %@ against %@ measured, %+.0f%%), so gtrace predicts nothing here",
                           duration(fit.replayNanoseconds), duration(fit.measuredNanoseconds), fit.error * 100)
            s += fit.unexplainedWaits.isEmpty ? "." : "; largest unexplained waits: " + fit.unexplainedWaits.prefix(3).joined(separator: ", ") + "."
            sentences.append(s)
        } else if let whatIfSentence, fits {
            sentences.append(whatIfSentence)
        } else {
            whatIf = nil
        }
        // A tree of Python processes, each with its own GIL: what the same processes would
        // take as threads of one process, the question a processes run asks the other way round.
        let pythonProcesses = a.gil.filter { $0.traced && $0.heldNanoseconds >= a.summary.wallNanoseconds / 20 }
        if fits, pythonProcesses.count >= 2, pythonProcessesOverlap(a, pythonProcesses),
           let w = prediction("with one GIL", cores: cores), let base = baseline(), base.wall > 0 {
            // The what-if shares every traced GIL, not only those held long enough to make it
            // worth asking (a pool replacing its workers had 22, and "one GIL for its 6").
            let shared = a.gil.filter(\.traced)
            // Several GILs of one process are its subinterpreters'; a process that exec'd
            // Python again is two processes of one pid, one after the other.
            let owners = Set(shared.map(\.process)).count
            let what = owners == 1 ? String(format: "As threads of one interpreter (one GIL for its %d interpreters)", shared.count)
                : owners == shared.count ? String(format: "As threads of one process (one GIL for its %d Python processes)", owners)
                : String(format: "As threads of one process (one GIL for the %d GILs of its %d Python processes and their subinterpreters)", shared.count, owners)
            sentences.append(String(format: "%@, the replay predicts %@ on %@: %.2f× the time of %@.",
                                    what, duration(w.wallNanoseconds), coreCount(cores), Double(w.wallNanoseconds) / Double(base.wall),
                                    base.measured ? "the run as measured" : "the recording replayed as it was")
                             + (interpreterStartCaveat(a, among: shared) ?? "")
                             + (replacedProcessesCaveat(a, among: shared) ?? "")
                             + (exchangeCaveat(a, among: shared, predicted: w.wallNanoseconds, baseline: base.wall) ?? ""))
        }
        if limit?.rule != 2, let rw = waitingWriters(a) { sentences.append(rw) }
        if fits, let w = wakeUpCost(a) { sentences.append(w) }
        if let h = handOffCostSentence(a) { sentences.append(h) }
        if let cost = recordingCostSentence(a) { sentences.append(cost) }
        // Waits gtrace cannot see that did not make the limit still get a line:
        // the lock table may not show what serialises the threads.
        if limit?.kind != "invisible waits", limit?.kind != "kernel and unseen waits", let unseen = a.invisibleWaits, unseen.isSignificant {
            sentences.append(unseen.sentence)
        }
        if limit?.kind != "foreign load", let foreign, foreign.confirmed, foreign.share >= foreignNoteShare {
            sentences.append(String(format: "Other programs held the CPUs for %.0f%% of the run while its threads were ready to run (%@ of CPU time): measured times are inflated.",
                                    foreign.share * 100, duration(foreign.cpuNanoseconds)))
        }
        if let foreign, foreign.undetermined, foreign.share >= foreignNoteShare {
            sentences.append(String(format: "For %.0f%% of the run its threads were ready to run while fewer than %d of them ran (%@ of CPU time): another program, the kernel or gtrace's recorder held a CPU, or the scheduler left one idle; this machine's idle counters (/proc/stat's 10 ms ticks: it has no cpuidle) cannot tell which, so measured times may be inflated by up to that much.",
                                    foreign.share * 100, cores, duration(foreign.cpuNanoseconds)))
        }
        if let foreign, foreign.byRecorder, !foreign.mostlyByRecorder, foreign.share >= foreignNoteShare, let recorder = foreign.recorderCPUNanoseconds {
            sentences.append(String(format: "For %.0f%% of the run its threads were ready to run while other work held the CPUs (%@ of CPU time): the machine's idle counters leave %@ to other programs or the kernel, and gtrace's recorder used %@ (reading the records as they were written): measured times are inflated.",
                                    foreign.share * 100, duration(foreign.cpuNanoseconds), duration(foreign.leftToOthersNanoseconds), duration(recorder)))
        } else if let foreign, foreign.byRecorder, foreign.share >= foreignNoteShare, let recorder = foreign.recorderCPUNanoseconds {
            sentences.append(String(format: "For %.0f%% of the run its threads were ready to run while a CPU ran gtrace's recorder (it used %@ of CPU time during the run, reading the records as they were written): measured times are inflated by up to %@.",
                                    foreign.share * 100, duration(recorder), duration(foreign.cpuNanoseconds)))
        }
        if let machine = a.summary.machine, machine.stealShare >= stealNoteShare {
            sentences.append(String(format: "The hypervisor gave %.0f%% of this machine's CPU time to other virtual machines during the run (steal: %@, /proc/stat): perf counts it as on-CPU time of the thread it interrupted, so on-CPU times, parallelism and the replay's times may be overstated by up to that much, and every wall time stretched.",
                                    machine.stealShare * 100, duration(machine.stealNanoseconds)))
        }
        if let online = a.summary.onlineCPUs, online > cores, a.summary.cpuQuota == nil {
            sentences.append("The command could run on \(cores) of this machine's \(online) CPUs (its CPU affinity: taskset, a cpuset), so the cores here are those \(cores).")
        }
        if let own = ownAffinitySentence(a, cores: cores) { sentences.append(own) }
        if let quota = a.summary.cpuQuota, limit?.kind != "cpu quota" {
            sentences.append(String(format: "Its cgroup's CPU quota lets it use %.2f CPUs' time (cpu.max or cpu.cfs_quota_us), so the cores here are %@.", quota, coreCount(cores)))
        }
        sentences += spinWaitSentences(a)
        if let spin = spinlockSentence(a, saidByLockRule: limit?.rule == 2 && a.locks.contains { $0.kind == LockKind.spinlock.label && $0.name == p?.serialised?.resource }) {
            sentences.append(spin)
        }
        return Decision(limit: limit!, sentences: sentences, whatIf: whatIf)
    }

    /// A recording that cost at least this share of the run's CPU time gets a sentence.
    static let recordingCostShare = 0.1
    /// The program ran slower traced: Python's sqlite3 in one thread releases and takes
    /// the GIL around each call into SQLite (and SQLite takes its own mutexes): 200 k
    /// inserts used 287 ms of CPU untraced, 454 ms traced (8.0 M records), and nothing in
    /// the report said the run it describes was not the program's own.
    static func recordingCostSentence(_ a: TraceAnalysis) -> String? {
        guard let cost = a.summary.recordingCost, a.summary.cpuNanoseconds > 0 else { return nil }
        let records = Double(cost.leastNanoseconds) >= recordingCostShare * Double(a.summary.cpuNanoseconds)
        let threadTime = a.invisibleWaits?.threadNanoseconds ?? 0
        let setup = cost.bufferSetupNanoseconds ?? 0
        let buffers = threadTime > 0 && Double(setup) >= recordingCostShare * Double(threadTime)
        var text: [String] = []
        if records {
            text.append(String(format: "Recording cost this run at least %@ of CPU time (%.0f%% of its %@): its threads wrote %@ records, each no cheaper than %.1f ns on this machine, more where they hand locks or the GIL to each other.",
                               duration(cost.leastNanoseconds), Double(cost.leastNanoseconds) / Double(a.summary.cpuNanoseconds) * 100,
                               duration(a.summary.cpuNanoseconds), Self.count(cost.records), Double(cost.picosecondsPerRecord) / 1000))
        }
        if buffers {
            // Thread-heavy programs: each thread maps and unmaps files for its records, and threads
            // that do so at once wait for each other in the kernel (the memory-map lock), off the CPU.
            text.append(String(format: "Its threads spent %@ (%.0f%% of the time of its multithreaded processes' threads) setting up gtrace's record buffers (%@ files created, mapped and unmapped; threads doing so at once wait for each other in the kernel).",
                               duration(setup), Double(setup) / Double(threadTime) * 100, Self.count(cost.bufferChunks ?? 0)))
        }
        guard !text.isEmpty else { return nil }
        // Not "faster untraced": 4 threads hammering one mutex ran in 99 ms traced and
        // 133–149 ms untraced (a slower acquisition left the others less to contend for).
        return (text + ["Untraced, the program does not pay this cost, and its threads may interleave differently: the times above are of the traced run."]).joined(separator: " ")
    }

    /// "12.8 M", "966 k", "530".
    static func count(_ n: UInt64) -> String {
        n >= 1_000_000 ? String(format: "%.1f M", Double(n) / 1e6) : n >= 10_000 ? String(format: "%.0f k", Double(n) / 1e3) : "\(n)"
    }

    /// The mutex whose condition variables threads took turns on (rule 2e): waited on by at
    /// least two threads that each were on a CPU for at least `turnsCPUShare` of the wall
    /// time, with at least `queuedWaiters` threads waiting on average.
    static let turnsCPUShare = 0.1
    /// Also gives how many of its waiting threads were that busy, and their waiting on
    /// average. Only the busy threads' waits count: node's idle V8 platform threads,
    /// parked on a queue of one libuv mutex for the whole run while two worker threads
    /// waited on it 1.4 and 2.9 ms, made "Threads took turns through mutex … 1.89
    /// threads on average" of workers that ran in parallel.
    static func conditionTurns(_ a: TraceAnalysis) -> (ConditionQueueStatistics, Int, Double)? {
        let wall = Double(max(a.summary.wallNanoseconds, 1))
        let busy = Set(a.threads.filter { Double($0.states?.onCPUNanoseconds ?? $0.cpuNanoseconds ?? 0) >= turnsCPUShare * wall }.map(\.index))
        for q in a.conditionQueues {
            let busyWaits = q.threads.indices.filter { busy.contains(q.threads[$0]) }.map { q.threadWaitNanoseconds.indices.contains($0) ? q.threadWaitNanoseconds[$0] : 0 }
            let waiting = Double(busyWaits.saturatingSum) / wall
            if busyWaits.count >= 2, waiting >= queuedWaiters { return (q, busyWaits.count, waiting) }
        }
        return nil
    }

    /// Wake-ups that cost the run at least this share of its wall time get a sentence.
    static let wakeUpShare = 0.2
    /// The wake-ups' cost, when it is a large part of the run and not other programs'
    /// load: two Python threads handing `threading.Event`s back and forth replayed in
    /// 969 ms as recorded and in 463 ms on an idle machine that runs a woken thread at
    /// once; the verdict's critical path (48% of the wall time) left the rest unsaid.
    static func wakeUpCost(_ a: TraceAnalysis) -> String? {
        guard let p = a.parallelism, let w = p.wakeUps, a.summary.wallNanoseconds > 0 else { return nil }
        let wall = Double(a.summary.wallNanoseconds)
        guard Double(w.runNanoseconds) >= wakeUpShare * wall else { return nil }
        // What the self-replay adds is the wake-ups' only when their latencies come near it:
        // threads kept off an idle CPU by their own affinity add it too (`ownAffinitySentence`).
        guard w.totalNanoseconds >= w.runNanoseconds / 2, !ranOnFewerCPUs(a) else { return nil }
        if let foreign = p.foreignLoad, foreign.confirmed, foreign.cpuNanoseconds >= w.runNanoseconds / 2 { return nil }
        return String(format: "Wake-ups cost this run about %@ (%.0f%% of its wall time): %d times a thread waited for another to let it go (a lock handed over, a condition, event or semaphore signalled, a join), and it took %@ on average from then to its running again. The replay's predictions, critical path and parallelism bound assume a woken thread runs at once, so they are optimistic here; fewer hand-offs between threads (more work per hand-off) would cut this cost.",
                      duration(w.runNanoseconds), Double(w.runNanoseconds) / wall * 100, w.count, duration(w.meanNanoseconds))
    }

    /// Writers kept out of a rwlock its readers held most of the time: not
    /// serialised work (the readers overlap), but a writer's work waits. The
    /// rwlock whose writers waited longest, for at least `waitingWritersShare`
    /// of the wall time in all.
    static let waitingWritersShare = 0.2
    static func waitingWriters(_ a: TraceAnalysis) -> String? {
        let wall = Double(max(a.summary.wallNanoseconds, 1))
        guard let lock = a.locks.filter({ l in
            guard let rw = l.rwlock else { return false }
            return rw.readHoldNanoseconds >= rw.writeHoldNanoseconds && Double(rw.writeWaitNanoseconds) >= waitingWritersShare * wall
        }).max(by: { ($0.rwlock!.writeWaitNanoseconds, -$0.index) < ($1.rwlock!.writeWaitNanoseconds, -$1.index) }),
              let rw = lock.rwlock else { return nil }
        let waits = rw.writeWaits == 1 ? "1 wait" : "\(rw.writeWaits) waits, the longest \(duration(rw.writeWaitMaxNanoseconds))"
        return String(format: "Writers of rwlock %@ (pid %d) waited %@ for it (%.0f%% of the wall time; %@) while readers held it %.0f%% of the time: the readers overlap, so this is not serialised work, but the writers' work waited (glibc's rwlocks let new readers in while a writer waits unless made with PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP).",
                      lock.name, lock.pid, duration(rw.writeWaitNanoseconds), Double(rw.writeWaitNanoseconds) / wall * 100, waits, lock.holdRatio * 100)
    }

    /// What the recording lost, said before anything computed from it.
    static func lossSentence(_ loss: EventLoss, _ a: TraceAnalysis) -> String {
        var parts: [String] = []
        if loss.events > 0 {
            let from = loss.fromNanoseconds.map { String(format: ", from %@ into the run on", duration($0)) } ?? ""
            parts.append(String(format: "gtrace lost %llu events of this run (%@%@)", loss.events,
                                loss.causes.isEmpty ? "cause unknown" : loss.causes.joined(separator: "; "), from))
        }
        if loss.perfRecords > 0 {
            parts.append(String(format: "perf dropped %llu scheduling records (its ring was full), so on-CPU times and thread states are incomplete", loss.perfRecords))
        }
        let consequence = loss.isSignificant(recordedEvents: a.summary.eventCount)
            ? "every figure below misses what was lost, and gtrace predicts nothing"
            : "the figures below miss them"
        return parts.joined(separator: "; ") + ": " + consequence + "."
    }

    /// The waiting rule mentions lock and futex waits from this share of the threads' time.
    static let lockWaitMention = 0.10

    /// The lock (not a GIL or condition) most waited for, if threads queued on it:
    /// on average at least `queuedWaiters` threads waiting, handed from holder to
    /// waiter at least `queuedHandOffs` times, and held (when holds are seen) as
    /// long as it was waited for by one thread at least. A thread's own lock that
    /// others wait for once (a join) changes hands once and does not count. A futex
    /// word counts only when its wakes look like a lock's (`FutexStatistics.looksLikeALock`).
    /// A rwlock held mostly for reading does not count: its readers overlap (its
    /// waiting writers get a sentence of their own, `waitingWriters`).
    /// What rule 2b's lock was held across, as measured (HolderWaits): waits for the GIL
    /// (a thread holding a Python lock lost the GIL to threads that then queued on the
    /// lock), blocking calls, or neither seen.
    static func holdersWaited(_ lock: LockStatistics) -> String {
        holdersWaited(hold: lock.holdTotalNanoseconds, gil: lock.holderWaits?.gilNanoseconds ?? 0,
                      blocked: lock.holderWaits?.blockedNanoseconds ?? 0, byCall: lock.holderWaits?.blockedByCall ?? [:])
    }

    /// The same from the totals of a lock's holds and its holders' waits.
    static func holdersWaited(hold holdNanoseconds: UInt64, gil gilNanoseconds: UInt64, blocked blockedNanoseconds: UInt64,
                              byCall: [String: UInt64] = [:], oneAtATime unit: String = "thread") -> String {
        let hold = Double(max(holdNanoseconds, 1))
        // At most the hold time (rwlock readers hold it together, each waiting on its own).
        let gil = min(1, Double(gilNanoseconds) / hold)
        let blocked = min(1, Double(blockedNanoseconds) / hold)
        var parts: [String] = []
        if gil >= holderWaitShare {
            parts.append(String(format: "%.0f%% to its holders waiting for the GIL, which other threads held meanwhile (they ran Python, then queued on this lock)", gil * 100))
        }
        if blocked >= holderWaitShare {
            // The calls that took most of that time, largest first, as long as they add up to less than 90% of it.
            var calls: [String] = [], covered: UInt64 = 0
            for (call, ns) in byCall.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) where covered < blockedNanoseconds / 10 * 9 && calls.count < 3 {
                calls.append(call)
                covered = covered.adding(saturating: ns)
            }
            let which = calls.isEmpty ? "" : " (" + calls.joined(separator: ", ") + ")"
            parts.append(String(format: "%.0f%% to blocking calls%@ made while holding it", blocked * 100, which))
        }
        let serial = "what runs under it runs one \(unit) at a time"
        return parts.isEmpty ? serial : "its hold time went " + parts.joined(separator: " and ") + "; " + serial
    }

    /// "process 4242 (python3 stage2.py)" for a thread of a tree of several processes; nil
    /// for a single process, whose verdict names no process.
    static func busyThreadsProcess(_ a: TraceAnalysis, thread: Int) -> String? {
        guard a.processes.count > 1, a.threads.indices.contains(thread),
              let process = a.processes.first(where: { $0.index == a.threads[thread].process }) else { return nil }
        return processLabel(process)
    }

    /// "process 4242 (python3 stage2.py)".
    static func processLabel(_ process: ProcessStatistics) -> String {
        // Paths by their last component: the script's name and its arguments tell processes apart.
        let short = process.command.split(separator: " ").map { $0.split(separator: "/").last.map(String.init) ?? String($0) }
            .joined(separator: " ")
        let command = short.count > 80 ? String(short.prefix(79)) + "…" : short
        return "process \(process.pid) (\(command))"
    }

    /// A share of a lock's hold time its holders spent waiting for something, worth saying.
    static let holderWaitShare = 0.2

    /// The most waited-for lock rule 2b names. A futex word's holds are not seen, so while the
    /// cores were kept busy its waits may be its holders' turns for a CPU: 4 Rust threads
    /// taking tasks through one `Mutex<Receiver>` on 2 cores "serialised the threads", with
    /// 0.53 waiting on average, at parallelism 1.96, while untraced one core took 1.7× as
    /// long and the replay predicted 1.66× faster on 4 cores (`cores`, rule 6, says that).
    static func queuedLock(_ a: TraceAnalysis, coresKeptBusy: Bool) -> LockStatistics? {
        a.locks.filter { l in
            guard l.kind != LockKind.gil.label, l.kind != LockKind.condition.label, l.waitRatio >= queuedWaiters else { return false }
            if let f = l.futex { return !coresKeptBusy && f.handOffs >= queuedHandOffs && f.looksLikeALock }
            if let rw = l.rwlock, rw.readHoldNanoseconds >= rw.writeHoldNanoseconds { return false }
            return l.ownerChanges >= queuedHandOffs && l.contendedAcquisitions >= queuedHandOffs && l.holdRatio >= queuedWaiters
        }.max { ($0.waitRatio, -$0.index) < ($1.waitRatio, -$1.index) }
    }

    /// A lock of several processes (rule 2c), its rows added up.
    struct SharedLock {
        var name: String
        var kind: String
        /// "" when its processes map it at different addresses.
        var address: String
        var pids: [Int32]
        var holds: UInt64
        var outsideWaits: UInt64
        var waits: Int
        /// From its first acquisition in any process to the end of its last hold.
        var span: UInt64
        /// The holders' waits while holding it, over all its rows (HolderWaits).
        var holderGIL: UInt64 = 0
        var holderBlocked: UInt64 = 0
        var holderBlockedByCall: [String: UInt64] = [:]
        /// Tries that found it taken (a polling waiter: filelock's flock(LOCK_NB) and sleep).
        var busyTries = 0
    }

    /// A lock in several processes that their threads waited for while no
    /// thread of their own process released it (so the holder was in another
    /// process: the same object in shared memory), held at least
    /// `queuedWaiters` of the wall time in all while at least `sharedWaiters`
    /// processes waited for it on average (two processes that take it in turns,
    /// the second only once the first is done, wait 0.5 on average at most).
    /// The most waited-for such lock.
    static func sharedLock(_ a: TraceAnalysis) -> SharedLock? {
        let wall = Double(max(a.summary.wallNanoseconds, 1))
        let candidates = a.locks.filter { $0.kind != LockKind.gil.label && $0.kind != LockKind.condition.label && $0.futex == nil }
        // One object in shared memory has the same address in processes forked
        // after it was mapped, and the same name (the line that first took it) in
        // processes that mapped it themselves (multiprocessing's spawn and
        // forkserver). Rows are grouped by address when it recurs in another
        // process, else by their name when it names a place. A name that one
        // process gives to several rows names no one object: a multiprocessing
        // Pool's task and result queues each have a lock first taken at
        // synchronize.py:95, and summed they were "one lock" held 82% of the time.
        func located(_ l: LockStatistics) -> Bool { !l.name.hasPrefix("Python lock 0x") && l.name != l.address }
        var pidsAt: [String: Set<Int32>] = [:]
        for l in candidates { pidsAt[l.kind + " " + l.address, default: []].insert(l.pid) }
        var groups: [String: [LockStatistics]] = [:]
        for l in candidates {
            let atAddress = l.kind + " " + l.address
            let key = (pidsAt[atAddress]?.count ?? 0) >= 2 || !located(l) ? atAddress : l.kind + " named " + l.name
            groups[key, default: []].append(l)
        }
        groups = groups.filter { _, rows in Set(rows.map(\.pid)).count == rows.count }
        let shared = groups.values.compactMap { rows -> SharedLock? in
            let pids = Set(rows.map(\.pid))
            guard pids.count >= 2 else { return nil }
            let outside = rows.map(\.waitForOtherProcessesNanoseconds).saturatingSum
            let holds = rows.map(\.holdTotalNanoseconds).saturatingSum
            // Held for most of the time it was in use: the processes' start-up before it
            // (5 interpreters, 40% of a 128 ms run) does not dilute it. Its waits still
            // count against the whole run.
            let first = rows.compactMap(\.firstHoldNanoseconds).min() ?? 0
            let last = rows.compactMap(\.lastHoldEndNanoseconds).max() ?? 0
            let span = last > first ? min(last - first, UInt64(wall)) : UInt64(wall)
            guard Double(outside) >= sharedWaiters * wall, Double(holds) >= queuedWaiters * Double(max(span, 1)) else { return nil }
            let named = rows.first(where: located) ?? rows[0]
            let addresses = Set(rows.map(\.address))
            return SharedLock(name: named.name, kind: named.kind, address: addresses.count == 1 ? named.address : "", pids: pids.sorted(),
                              holds: holds, outsideWaits: outside, waits: rows.map(\.waitsForOtherProcesses).reduce(0, +), span: span,
                              holderGIL: rows.map { $0.holderWaits?.gilNanoseconds ?? 0 }.saturatingSum,
                              holderBlocked: rows.map { $0.holderWaits?.blockedNanoseconds ?? 0 }.saturatingSum,
                              holderBlockedByCall: rows.reduce(into: [:]) { sum, row in
                                  for (call, ns) in row.holderWaits?.blockedByCall ?? [:] { sum[call] = (sum[call] ?? 0).adding(saturating: ns) }
                              }, busyTries: rows.map(\.trylockBusy).reduce(0, +))
        }
        return shared.max { ($0.outsideWaits, $1.name) < ($1.outsideWaits, $0.name) }
    }

    /// What every prediction assumes (docs/METRICS.md, "Replay"): measured on this VM, the same
    /// work took up to 35% more CPU time run in parallel, and up to 15% less without GIL hand-offs.
    static let cpuCostCaveat = "It gives each thread's work the CPU time it took in this run; run in parallel, the same work can take more or less CPU time (shared caches and cores), and the wall time with it."

    /// What the processes what-if leaves out, said for runs shorter than
    /// `processStartNoteWall`. Measured here with 4 processes of trivial work
    /// (tools/workloads/seed6_fibo.py processes --size 2): 8–10 ms in all with
    /// 3.11's fork, 56–66 ms with 3.15's forkserver; seed 6 on 3.15 with
    /// fibo(28) ran in 150–200 ms as processes where the replay predicted 111.
    static let processStartCaveat = "It leaves out starting the processes and sending them their work: a few milliseconds each with multiprocessing's fork, tens of milliseconds with forkserver or spawn (a new interpreter first; forkserver is multiprocessing's default from Python 3.14), which a run this short would notice."
    static let processStartNoteWall: UInt64 = 2_000_000_000

    /// "most at sem.py:4 in work (Semaphore.acquire: 6 waits by 6 threads, 1.20 s) and …": the
    /// program's lines with the most Python lock waits, when they are ≥ half of `total`.
    static func pythonLockWaitPlaces(_ a: TraceAnalysis, of total: Double) -> String? {
        guard let sites = a.pythonLockWaits, total > 0,
              Double(sites.map(\.waitNanoseconds).saturatingSum) >= 0.5 * total else { return nil }
        let multi = Set(sites.map(\.pid)).count > 1
        let named = sites.prefix(2).filter { Double($0.waitNanoseconds) >= Self.lockWaitMention * total }.map { s -> String in
            let waits = "\(s.waits) wait\(s.waits == 1 ? "" : "s")" + (s.threads > 1 ? " by \(s.threads) threads" : "")
            return "\(s.site)\(multi ? " (pid \(s.pid))" : "") (\(s.via.map { $0 + ": " } ?? "")\(waits), \(duration(s.waitNanoseconds)))"
        }
        guard !named.isEmpty else { return nil }
        return "most at " + named.joined(separator: " and ")
    }

    /// A duration for a sentence: "850 ms", "2.31 s", "420 µs".
    static func duration(_ ns: UInt64) -> String {
        let v = Double(ns)
        if v >= 1e9 { return String(format: "%.2f s", v / 1e9) }
        if v >= 1e6 { return String(format: "%.0f ms", v / 1e6) }
        if v >= 1e3 { return String(format: "%.0f µs", v / 1e3) }
        return "\(ns) ns"
    }
}
