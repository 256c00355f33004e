import GtraceFormat

/// How parallel a run was, what bounds it, and what the replay predicts
/// (docs/METRICS.md, "Parallelism").
public struct ParallelismStatistics: Sendable, Codable {
    public var wallNanoseconds: UInt64
    /// On-CPU time of every thread (perf), else user + system time of the tree:
    /// also when perf's falls short of that by more than a fifth (`perfShortfallNanoseconds`).
    public var cpuNanoseconds: UInt64
    public var cpuSource: String
    /// With perf: how much less on-CPU time perf saw than getrusage's user + system
    /// time, when that is more than a fifth of it. perf sees no thread's time after
    /// its exit record (the kernel's exit work, ~15 µs a thread here): a program
    /// that keeps starting short threads shows a third less.
    public var perfShortfallNanoseconds: UInt64?
    /// The part of `cpuNanoseconds` threads spent spinning for a spinlock (perf; nil: none).
    /// Waiting, not work: the serialised share and the bound divide the rest.
    public var spinningNanoseconds: UInt64?
    /// CPU time less spinning: the work the serialised share and the bound are of.
    public var workNanoseconds: UInt64 { cpuNanoseconds &- min(spinningNanoseconds ?? 0, cpuNanoseconds) }
    /// Spinning from this share of the CPU time leaves out the predictions on fewer cores
    /// and gets a verdict sentence.
    public static let spinningShare = 0.05
    public var spinningIsLarge: Bool {
        cpuNanoseconds > 0 && Double(spinningNanoseconds ?? 0) >= Self.spinningShare * Double(cpuNanoseconds)
    }
    /// CPU time ÷ wall time.
    public var averageParallelism: Double
    public var cores: Int
    /// Entry k: wall time during which exactly k threads were on a CPU (perf only).
    public var utilisation: [UtilisationLevel]
    /// The lock whose serialised work is largest (nil: no lock kept a waiter waiting while its holder ran).
    public var serialised: SerialisedWork?
    /// The replay of the recording as it was, to show how far the model is from the truth.
    public var replayOfRecording: Prediction?
    /// Speedups are relative to `replayOfRecording`, never to the measured wall time.
    public var predictions: [Prediction]
    public var criticalPath: CriticalPathSummary?
    /// Why there are no predictions, when there are none.
    public var replayNote: String?
    /// Why there are no predictions on fewer cores than the recording's, when left out.
    public var fewerCoresNote: String?
    /// The largest waits the replay kept as fixed delays because no record names
    /// what ended them (largest first, at most 10), and the total of all such
    /// waits: where the model may not fit the run (docs/METRICS.md, "Replay").
    public var unexplainedWaits: [UnexplainedWait] = []
    public var unexplainedWaitNanoseconds: UInt64 = 0
    /// The part of them the replay keeps as recorded (no waker, not even a guessed one):
    /// as long on any number of cores.
    public var keptWaitNanoseconds: UInt64 = 0
    /// Python locks the replay without the GIL takes as mutexes (their holds keep threads
    /// apart, not only their waits: `ReplayBuilder.keepTokens`), by lock index; nil: none.
    public var mutexPythonLocks: [Int]?
    /// Kept waits of at least this share of the wall time are named beside any claim
    /// that more cores would not help (the verdict's and the parallelism bound's).
    public static let keptWaitsShare = 0.1
    public var keptWaitsAreLarge: Bool {
        wallNanoseconds > 0 && Double(keptWaitNanoseconds) >= Self.keptWaitsShare * Double(wallNanoseconds)
    }
    /// The best parallelism with unlimited cores (docs/METRICS.md, "Parallelism bound").
    public var bound: ParallelismBound?
    /// Other programs' load (perf only).
    public var foreignLoad: ForeignLoad?
    /// How far the replay of the recording is from the measured wall time.
    public var replayFit: ReplayFit?
    /// The what-if the verdict suggests (on this machine's cores), when one applies and the model fits.
    public var whatIf: Prediction?
    /// Waits another thread ended, and what their wake-up latency cost the run.
    public var wakeUps: WakeUpCost?
}

/// Wake-ups (docs/METRICS.md, "Wake-ups"): waits another thread ended (a lock
/// handed over, a condition, event or semaphore signalled, a join, a child's
/// end), and the time from that moment to the waiter's next record. The replay
/// of the recording as it was replays them; its predictions leave them out.
public struct WakeUpCost: Sendable, Codable {
    public var count: Int
    public var totalNanoseconds: UInt64
    public var meanNanoseconds: UInt64
    /// The self-replay's wall time less the idle-machine replay's on the same
    /// cores: what the wake-ups and other programs' load added to the run.
    public var runNanoseconds: UInt64
}

/// A wait the replay could not tie to the thread or process that ended it.
public struct UnexplainedWait: Sendable, Codable {
    public var tid: Int32
    public var pid: Int32
    public var thread: String
    /// The call: "read(fd 5)", "poll(2 fds)", "sem_wait (waker guessed by time)",
    /// "off-CPU outside any recorded call".
    public var what: String
    /// Since the run's start.
    public var startNanoseconds: UInt64
    public var nanoseconds: UInt64
    /// Replayed as a wait for a waker guessed by time, not kept as recorded.
    public var wakerGuessed = false
}

/// The most CPUs the run's work could keep busy on average with unlimited
/// cores: CPU time ÷ max(serialised work, critical path), never below 1 nor
/// below the measured parallelism.
public struct ParallelismBound: Sendable, Codable {
    public var value: Double
    /// "lock": the serialised work of `SerialisedWork.resource`, "critical path", or "threads"
    /// (the most alive at once): the smallest bound, even when the measured parallelism (or 1)
    /// is larger and gives `value`.
    public var limitedBy: String
    /// CPU time ÷ serialised work.
    public var lockBound: Double?
    /// CPU time ÷ critical path.
    public var criticalPathBound: Double?
    /// The most threads alive at once: no run is more parallel than that ("threads").
    public var threadsAtOnce: Int?
}

/// Other programs' load on the machine, from perf's switch records.
public struct ForeignLoad: Sendable, Codable {
    /// Wall time during which at least one of the tree's threads was runnable while fewer than `cores` of them ran.
    public var wallNanoseconds: UInt64
    /// wallNanoseconds ÷ wall time of the run.
    public var share: Double
    /// ∫ min(runnable threads, cores − running threads) dt: CPU time other programs held while this run wanted it.
    public var cpuNanoseconds: UInt64
    /// Runnable time of the tree's threads while fewer than `cores` of them ran (sum over threads).
    public var threadNanoseconds: UInt64
    /// CPU time the machine's idle counters (cpuidle, to the µs) leave to everything but the
    /// tree's threads and gtrace's recorder over the run: other programs, the kernel; nil without them.
    public var othersCPUNanoseconds: UInt64?
    /// The recorder's own CPU time over the run (its live scan of the records, perf's
    /// rings), when recorded: it is not another program's.
    public var recorderCPUNanoseconds: UInt64?
    /// The CPUs' entries into an idle state over the run (cpuidle), when recorded.
    public var idleEntries: UInt64?
    /// Busy time each idle entry may account for: a CPU about to idle polls first (a
    /// virtual machine's haltpoll starts at 50 µs), and cpuidle counts the polling as busy.
    /// A lock convoy of 4 Python 3.8 threads (23 631 idle entries in 1.4 s) left 555 ms
    /// "to others" on an idle machine: 23 µs per entry.
    public static let pollNanosecondsPerIdleEntry: UInt64 = 50_000
    /// The busy time the idle entries may account for.
    public var idlePollingNanoseconds: UInt64 { (idleEntries ?? 0).multiplied(saturating: Self.pollNanosecondsPerIdleEntry) }
    /// False when the tree wanted more CPU than anything else used: the CPUs were idle for the
    /// rest (the scheduler placed a woken thread on a busy CPU, or moved it late), or gtrace's
    /// recorder used it (`byRecorder`), not other programs.
    public var confirmed = true
    /// How many CPUs the tree's threads ran on, when fewer than its cores: with threads
    /// waiting for a CPU while another stayed idle, the command restricted its own CPUs
    /// (`taskset` inside it, `sched_setaffinity`), which the recorder, reading its own
    /// affinity before the spawn, cannot see.
    public var cpusUsed: Int?
    /// The machine's idle counters are too coarse to tell (/proc/stat's 10 ms ticks, without
    /// cpuidle): they neither leave room for it beyond their error nor rule it out. `confirmed`
    /// is false then, and nothing says who held the CPUs (a Rust program's 12 ms on a
    /// 94 ms run was "Other programs held the CPUs for 13% of the run").
    public var undetermined = false
    /// Not other programs, but the recorder's CPU time accounts for it: a pipeline of two
    /// Python processes (1.15 M events) was "Other programs held the CPUs for 12% of the
    /// run" on an idle machine, and nothing with the live scan off.
    public var byRecorder = false
    /// What the machine's counters leave to other programs and the kernel, less the
    /// idle entries' polling.
    public var leftToOthersNanoseconds: UInt64 {
        let others = othersCPUNanoseconds ?? 0
        return others > idlePollingNanoseconds ? others - idlePollingNanoseconds : 0
    }
    /// `byRecorder`, with the recorder's CPU time the larger part: 50 processes of 50
    /// threads were "ready to run while a CPU ran gtrace's recorder … inflated by up to
    /// 75 ms" when the recorder used 3 ms and the counters left 68 ms to other work.
    public var mostlyByRecorder: Bool { byRecorder && (recorderCPUNanoseconds ?? 0) >= leftToOthersNanoseconds }

    /// Checks `cpuNanoseconds` against what the machine's counters leave to others
    /// (5% and 1 ms of slack: the counters are read just before the spawn and after the end).
    /// `othersCPU` includes the recorder's `recorderCPU`, which is taken out of it.
    /// What the CPUs' polling before `idleEntries` idle entries may account for is not counted
    /// as other programs' either.
    /// `countersSlack`: how far the idle counters may be off (/proc/stat's ticks).
    mutating func check(othersCPU: UInt64?, recorderCPU: UInt64? = nil, idleEntries: UInt64? = nil, countersSlack: UInt64 = 0) {
        recorderCPUNanoseconds = recorderCPU
        self.idleEntries = idleEntries
        guard let othersCPU else { return }
        // Within 5% + 1 ms of `cpu`, and the counters' error.
        func explains(_ cpu: UInt64, slack: UInt64 = countersSlack) -> Bool {
            cpuNanoseconds <= cpu.adding(saturating: cpu / 20 + 1_000_000).adding(saturating: slack)
        }
        let recorder = recorderCPU ?? 0
        let others = othersCPU > recorder ? othersCPU - recorder : 0
        othersCPUNanoseconds = others
        let left = leftToOthersNanoseconds
        confirmed = explains(left)
        // Coarse counters confirm it only when their error is small beside it, or when they
        // leave room for it even at their lowest.
        if confirmed, countersSlack > 0, countersSlack.multiplied(saturating: 5) > cpuNanoseconds {
            if !explains(left > countersSlack ? left - countersSlack : 0, slack: 0) {
                confirmed = false
                undetermined = true
                return
            }
        }
        byRecorder = !confirmed && recorder > 0 && explains(left.adding(saturating: recorder))
    }
}

/// The replay of the recording as it was against the measured wall time.
public struct ReplayFit: Sendable, Codable {
    public var replayNanoseconds: UInt64
    public var measuredNanoseconds: UInt64
    /// (replay − measured) ÷ measured.
    public var error: Double
    /// |error| ≤ 15%: predictions are printed as such; otherwise the report says the model does not fit.
    public var fits: Bool
    /// The largest waits the model could not explain, longest first ("thread 123 waitpid 800 ms"), when known.
    public var unexplainedWaits: [String] = []
    static let tolerance = 0.15
}

public struct UtilisationLevel: Sendable, Codable, Equatable {
    public var threadsOnCPU: Int
    public var nanoseconds: UInt64
    public var fraction: Double
}

/// The work that cannot run in parallel: on-CPU time spent holding one lock
/// (or GIL) while another thread of its process waited for it.
public struct SerialisedWork: Sendable, Codable {
    public var resource: String
    public var pid: Int32
    public var nanoseconds: UInt64
    /// Time during which some thread held it, waited for or not, on a CPU or not.
    public var heldNanoseconds: UInt64
    /// Total work ÷ serialised work: Amdahl's bound for this lock alone (`ParallelismBound` is the bound of the run).
    public var amdahlBound: Double
    /// Serialised work ÷ total work.
    public var serialFraction: Double
}

public struct Prediction: Sendable, Codable {
    public var scenario: String
    public var cores: Int?
    public var wallNanoseconds: UInt64
    /// The replay of the recording as it was on this machine's cores ÷ this prediction.
    public var speedup: Double
    /// Threads the replay could not finish (a wait it cannot satisfy); 0 normally.
    public var stuckThreads: Int
}

public struct CriticalPathSummary: Sendable, Codable {
    public var lengthNanoseconds: UInt64
    public struct ThreadShare: Sendable, Codable {
        public var tid: Int32
        public var pid: Int32
        public var name: String
        public var nanoseconds: UInt64
    }
    public struct LockShare: Sendable, Codable {
        public var lock: String
        public var pid: Int32
        public var handOffs: Int
    }
    public var threads: [ThreadShare]
    public var locks: [LockShare]
    public var waitsForOthers: Int
}

/// The utilisation histogram: a sweep over every thread's on-CPU intervals.
enum UtilisationHistogram {
    /// `intervals` are [start, end) in trace time; the levels cover [start, end) of the run.
    static func levels(_ intervals: [(start: UInt64, end: UInt64)], runStart: UInt64, runEnd: UInt64) -> [UtilisationLevel] {
        guard runEnd > runStart else { return [] }
        var edges: [(time: UInt64, delta: Int)] = []
        edges.reserveCapacity(intervals.count * 2)
        for i in intervals {
            let s = max(i.start, runStart), e = min(i.end, runEnd)
            if e > s {
                edges.append((s, 1))
                edges.append((e, -1))
            }
        }
        edges.sort { ($0.time, $0.delta) < ($1.time, $1.delta) }
        var byLevel: [UInt64] = [0]
        var level = 0
        var at = runStart
        for edge in edges {
            if edge.time > at {
                while byLevel.count <= level { byLevel.append(0) }
                byLevel[level] += edge.time - at
                at = edge.time
            }
            level += edge.delta
        }
        while byLevel.count <= level { byLevel.append(0) }
        byLevel[level] += runEnd - at
        let wall = Double(runEnd - runStart)
        return byLevel.enumerated().map { UtilisationLevel(threadsOnCPU: $0.offset, nanoseconds: $0.element, fraction: Double($0.element) / wall) }
    }
}
