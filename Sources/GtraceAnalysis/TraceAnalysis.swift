import GtraceFormat

/// The numbers every output of `gtrace report` is made from.
public struct TraceAnalysis: Sendable, Codable {
    public var summary: RunSummary
    public var processes: [ProcessStatistics]
    public var threads: [ThreadStatistics]
    /// Mutexes and rwlocks, sorted by hold ratio, highest first.
    public var locks: [LockStatistics]
    public var conditions: [ConditionStatistics]
    /// One entry per CPython process whose GIL was traced.
    public var gil: [GILStatistics]
    /// What limits the run, in plain words (most important first).
    public var verdict: [String]
    /// The one limiting resource the verdict names, with the numbers behind it (docs/METRICS.md, "Verdict").
    public var limit: Limit?
    public var warnings: [String]
    /// Parallelism, the Amdahl bound, the critical path and the replay's predictions.
    public var parallelism: ParallelismStatistics?
    /// Each thread's states over time, coarse (the HTML report's timeline).
    public var timeline: ThreadTimeline?
    /// HotSpot's parked threads grouped by why they parked (nil: no JVM).
    public var jvmMonitors: JVMMonitorStatistics?
    /// Condition waits by the mutex they release, the most waited first.
    public var conditionQueues: [ConditionQueueStatistics] = []
    /// Thread time blocked in waits no wrapper recorded (perf only).
    public var invisibleWaits: InvisibleWaitStatistics?
    /// Python lock waits by the program's own line, most waited first (nil: no Python locations).
    public var pythonLockWaits: [PythonLockWaitSite]?
}

public struct RunSummary: Sendable, Codable {
    public var trace: String
    public var command: String
    /// First process start to last process end.
    public var wallNanoseconds: UInt64
    /// CPU time of the whole process tree (user + system), when known.
    public var cpuNanoseconds: UInt64
    public var userCPUNanoseconds: UInt64
    public var systemCPUNanoseconds: UInt64
    /// Entries of the process and thread tables: one per image (an exec starts a new one).
    public var processCount: Int
    public var threadCount: Int
    /// Images an exec replaced, and threads that went on into the next image:
    /// the run had processCount − execCount processes and
    /// threadCount − execContinuedThreads threads.
    public var execCount = 0
    public var execContinuedThreads = 0
    public var lockCount: Int
    public var eventCount: Int
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64
    /// "perf" (exact on-CPU intervals), "wrappers" (blocking calls only) or "none" (older trace).
    public var scheduling = "none"
    /// Why perf was not used, when it was not.
    public var schedulingNote: String?
    /// Width of one entry of each process's `utilisation`.
    public var utilisationBucketNanoseconds: UInt64 = 0
    /// The whole machine's CPU time from the spawn to the end (/proc/stat), when recorded.
    public var machine: MachineCPU?
    /// What the recording lost, when it lost anything.
    public var loss: EventLoss?
    /// What recording cost the run, at least (traces from `record` since session 14).
    public var recordingCost: RecordingCost?
    /// Processes that loaded a thread runtime whose threads spin before they sleep
    /// (INFO `spin_wait_runtime`; traces from `record` since session 17).
    public var spinWaitRuntimes: [SpinWaitRuntimeUse] = []
    /// The command's environment variables that stop their spinning
    /// (INFO `spin_wait_env`, "NAME=value"; SpinWaitRuntime.environmentNames).
    public var spinWaitEnvironment: [String: String] = [:]
    /// The machine's online CPUs when the command could run on fewer (its CPU
    /// affinity: taskset, a cpuset); `cores` everywhere counts those it could use.
    public var onlineCPUs: Int?
    /// The CPUs' worth of time the command's cgroup quota allowed (cpu.max,
    /// cpu.cfs_quota_us), when below the CPUs it could run on; and the time the
    /// quota throttled the cgroup's threads during the run (summed over CPUs).
    public var cpuQuota: Double?
    public var cpuThrottledNanoseconds: UInt64?
    /// The lines outside the standard library that made `threading.Semaphore`s, the
    /// most first, with how many (INFO `python_semaphores`, "N site"; from session 25).
    public var pythonSemaphores: [PythonSemaphoreSite]?
}

/// A line that made `count` `threading.Semaphore`s or `BoundedSemaphore`s.
public struct PythonSemaphoreSite: Sendable, Codable, Equatable {
    public var site: String
    public var count: Int

    /// From INFO `python_semaphores` values ("3 app.py:12 in main").
    static func parse(_ info: RunInfo) -> [PythonSemaphoreSite]? {
        let sites = info.values.filter { $0.key == "python_semaphores" }.compactMap { entry -> PythonSemaphoreSite? in
            let parts = entry.value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let count = Int(parts[0]), count > 0 else { return nil }
            return PythonSemaphoreSite(site: String(parts[1]), count: count)
        }
        return sites.isEmpty ? nil : sites
    }
}

/// A process that loaded a spinning thread runtime (SpinWaitRuntime).
public struct SpinWaitRuntimeUse: Sendable, Codable, Equatable {
    public var pid: Int32
    /// The object's file name ("libgomp.so.1").
    public var object: String
    public var runtime: SpinWaitRuntime

    /// Parses INFO `spin_wait_runtime` values ("<pid> <object>").
    static func parse(_ info: RunInfo) -> [SpinWaitRuntimeUse] {
        info.values.compactMap { entry -> SpinWaitRuntimeUse? in
            guard entry.key == "spin_wait_runtime" else { return nil }
            let parts = entry.value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let pid = Int32(parts[0]), let runtime = SpinWaitRuntime.of(object: String(parts[1])) else { return nil }
            return SpinWaitRuntimeUse(pid: pid, object: String(parts[1]), runtime: runtime)
        }
    }
}

/// Events the recording lost (docs/RECORDING.md, "What is lost").
public struct EventLoss: Sendable, Codable {
    /// Runtime events counted as lost instead of recorded.
    public var events: UInt64
    /// Scheduling records perf dropped (its ring was full).
    public var perfRecords: UInt64
    /// When a thread first recorded nothing more (its last record before the loss).
    public var fromNanoseconds: UInt64?
    /// One sentence per cause.
    public var causes: [String]

    /// Whole threads stopped recording, or ≥ 1% of the events or any scheduling was lost:
    /// the figures describe a different run than the one that ran.
    public func isSignificant(recordedEvents: Int) -> Bool {
        fromNanoseconds != nil || perfRecords > 0 || events >= UInt64(max(recordedEvents, 0) / 100)
    }

    init?(info: RunInfo) {
        events = info["lost_events"].flatMap { UInt64($0) } ?? 0
        perfRecords = info["perf_lost_records"].flatMap { UInt64($0) } ?? 0
        guard events > 0 || perfRecords > 0 else { return nil }
        fromNanoseconds = info["lost_events_from_ns"].flatMap { UInt64($0) }
        causes = info.values.filter { $0.key == "lost_events_cause" }.map(\.value)
    }
}

/// The whole machine's CPU time during a recording, all CPUs together (/proc/stat).
public struct MachineCPU: Sendable, Codable {
    /// user + nice + system + irq + softirq: this run, the recorder and every other program.
    public var busyNanoseconds: UInt64
    /// idle + iowait.
    public var idleNanoseconds: UInt64
    /// Time the hypervisor gave this VM's CPUs to other virtual machines.
    public var stealNanoseconds: UInt64
    /// Idle time to the microsecond (cpuidle) and the window it covers, when recorded.
    public var preciseIdleNanoseconds: UInt64?
    public var windowNanoseconds: UInt64?
    /// gtrace's recorder's own CPU time over the same window (getrusage), when recorded.
    public var recorderNanoseconds: UInt64?
    /// The CPUs' entries into an idle state over the window (cpuidle), when recorded.
    public var idleEntries: UInt64?

    /// /proc/stat's tick (USER_HZ is 100 on every Linux architecture gtrace runs on).
    static let statTickNanoseconds: UInt64 = 10_000_000

    /// The CPUs' idle time over the window, the window's CPU time (window × `cores`), and
    /// how far the idle time may be off: cpuidle's residency to the microsecond (no
    /// slack), else /proc/stat's idle + iowait, each counter floored to a tick at both
    /// reads (two ticks per CPU of slack); a trace without the window (recorded before
    /// it was written) takes it from /proc/stat's own sum (eight counters: eight ticks
    /// per CPU). nil: no window to compare with.
    func idleAndCapacity(cores: Int) -> (idle: UInt64, capacity: UInt64, slack: UInt64)? {
        let cpus = UInt64(max(cores, 1))
        if let precise = preciseIdleNanoseconds, let window = windowNanoseconds {
            return (precise, window.multipliedReportingOverflow(by: cpus).partialValue, 0)
        }
        if let window = windowNanoseconds {
            return (idleNanoseconds, window.multipliedReportingOverflow(by: cpus).partialValue, 2 * cpus * Self.statTickNanoseconds)
        }
        let total = busyNanoseconds.adding(saturating: idleNanoseconds).adding(saturating: stealNanoseconds)
        return total > 0 ? (idleNanoseconds, total, 8 * cpus * Self.statTickNanoseconds) : nil
    }

    /// Steal ÷ all CPU time of the window.
    public var stealShare: Double {
        let total = Double(busyNanoseconds) + Double(idleNanoseconds) + Double(stealNanoseconds)
        return total > 0 ? Double(stealNanoseconds) / total : 0
    }

    init?(info: RunInfo) {
        guard let busy = info["machine_busy_ns"].flatMap({ UInt64($0) }),
              let idle = info["machine_idle_ns"].flatMap({ UInt64($0) }),
              let steal = info["machine_steal_ns"].flatMap({ UInt64($0) }) else { return nil }
        busyNanoseconds = busy
        idleNanoseconds = idle
        stealNanoseconds = steal
        preciseIdleNanoseconds = info["machine_cpuidle_ns"].flatMap { UInt64($0) }
        recorderNanoseconds = info["recorder_cpu_ns"].flatMap { UInt64($0) }
        windowNanoseconds = info["machine_window_ns"].flatMap { UInt64($0) }
        idleEntries = info["machine_cpuidle_entries"].flatMap { UInt64($0) }
    }
}

public struct ProcessStatistics: Sendable, Codable {
    public var index: Int
    public var pid: Int32
    public var ppid: Int32
    public var command: String
    public var lifetimeNanoseconds: UInt64
    public var cpuNanoseconds: UInt64
    public var threadCount: Int
    public var exit: String
    public var exitStatus: Int32
    public var parent: Int?
    /// It began with an exec (in place, or a child started by vfork or posix_spawn and
    /// exec), not as a fork its parent recorded: a new program, e.g. a new interpreter.
    public var startedByExec = false
    public var startNanoseconds: UInt64 = 0
    /// Its writes to pipes and sockets that another process of the tree read or waited on
    /// (ProcessExchanges.swift): the messages it sent them.
    public var writesReadByOtherProcesses = 0
    /// The bytes those writes carried, as the runtime counted them (wakers.c): at least the
    /// bytes it sent them, 0 in traces older than the count.
    public var bytesWrittenReadByOtherProcesses: UInt64 = 0
    /// From its first to its last write that another process read or waited on (nil: fewer
    /// than two such writes, or under 1 ms apart), and its threads' on-CPU time in that span
    /// ÷ the span (perf): how busy it was while it exchanged work, without its start-up
    /// (a spawned worker's imports) or its end.
    public var exchangeNanoseconds: UInt64?
    public var exchangeParallelism: Double?
    /// The part of that span in which the other processes exchanged too (from the first of
    /// their first such writes to the last of their last ones), and its on-CPU time there ÷
    /// that part: a pool's parent over its tasks, without waiting for spawned workers to
    /// start before they take the first (rule 2f; nil when under 1 ms or unknown).
    public var othersExchangeNanoseconds: UInt64?
    public var othersExchangeParallelism: Double?
    /// The processes (indices) that read or waited on what it wrote (nil: none).
    public var readersOfItsWrites: [Int]?
    /// False for a program the runtime could not enter (static, setuid).
    public var instrumented = true
    /// "exited 0", "exit(3)", "killed by SIGKILL", "exec", "still running at the end".
    public var end = ""
    /// Sum of its threads' on-CPU time (perf).
    public var onCPUNanoseconds: UInt64?
    /// CPUs in use on average in each time bucket of the run (perf).
    public var utilisation: [Double]?
    /// On-CPU time ÷ lifetime (perf), else CPU time ÷ lifetime.
    public var averageParallelism: Double = 0
    /// Its own utilisation histogram over its lifetime (perf).
    public var utilisationLevels: [UtilisationLevel]?
    /// Who reaped it (waitpid and friends) and how long that wait blocked.
    public var reapedByPid: Int32?
    public var reapWaitNanoseconds: UInt64?

    /// Its parallelism while it exchanged work when known, else over its lifetime.
    public var busyness: (parallelism: Double, overNanoseconds: UInt64, whileExchanging: Bool) {
        if let p = exchangeParallelism, let span = exchangeNanoseconds { return (p, span, true) }
        return (averageParallelism, lifetimeNanoseconds, false)
    }
}

public struct ThreadStatistics: Sendable, Codable {
    public var index: Int
    public var process: Int
    public var pid: Int32
    public var tid: Int32
    public var name: String
    public var startNanoseconds: UInt64
    public var lifetimeNanoseconds: UInt64
    public var cpuNanoseconds: UInt64?
    public var acquisitions: Int
    public var contendedAcquisitions: Int
    /// Time holding at least one lock.
    public var holdingNanoseconds: UInt64
    /// Time waiting for a lock (not for a condition variable).
    public var waitingNanoseconds: UInt64
    public var conditionWaitNanoseconds: UInt64
    /// For threads of CPython processes.
    public var gil: ThreadGILTimes?
    public var ended: String
    /// The state breakdown (docs/METRICS.md).
    public var states: ThreadStateTimes?
    /// Blocking calls by name: how often and for how long.
    public var blockingCalls: [BlockingCallTotal] = []
}

public struct BlockingCallTotal: Sendable, Codable, Equatable {
    public var call: String
    public var count: Int
    public var totalNanoseconds: UInt64
    public var maxNanoseconds: UInt64
}

public struct LockStatistics: Sendable, Codable {
    public var index: Int
    public var process: Int
    public var pid: Int32
    public var address: String
    /// The address, or "GIL (CPython 3.x)".
    public var name: String
    public var kind: String
    public var acquisitions: Int
    public var contendedAcquisitions: Int
    public var failedAcquisitions: Int
    public var trylockBusy: Int
    public var ownerChanges: Int
    public var holdTotalNanoseconds: UInt64
    public var holdMeanNanoseconds: UInt64
    public var holdMaxNanoseconds: UInt64
    public var holdP99Nanoseconds: UInt64
    /// Time during which at least one thread held it (equals holdTotal for a mutex).
    public var heldNanoseconds: UInt64
    /// heldNanoseconds ÷ wall time.
    public var holdRatio: Double
    /// On-CPU time spent holding it while another thread of its process waited for it.
    public var serialisedNanoseconds: UInt64 = 0
    /// Every wait that got it ended as another thread of its process ended: its
    /// waits are joins (a Python thread's `_tstate_lock`, JoinWaitTracker), and
    /// the replay has no "without lock" what-if of it.
    public var waitsAreJoins = false
    public var waitCount: Int
    public var waitTotalNanoseconds: UInt64
    public var waitMeanNanoseconds: UInt64
    public var waitMaxNanoseconds: UInt64
    /// waitTotal ÷ wall time: the average number of threads waiting for it.
    public var waitRatio: Double
    /// Waits that got the lock with no release by a thread of its process
    /// meanwhile: for a holder in another process (a lock in shared memory).
    public var waitsForOtherProcesses = 0
    public var waitForOtherProcessesNanoseconds: UInt64 = 0
    /// Its first acquisition and the end of its last hold (nil: never held).
    public var firstHoldNanoseconds: UInt64?
    public var lastHoldEndNanoseconds: UInt64?
    public var threadsUsing: Int
    /// Where it was acquired, the most waited-at first (from the trace's symbols).
    /// For a futex word: where it was waited on (waits) and woken (acquisitions = wake calls).
    public var callSites: [CallSiteStatistics] = []
    /// For a futex word (kind "futex"): its waits by outcome and its wakes.
    /// Its acquisitions count the waits that ended woken or with EAGAIN; it has no holds.
    public var futex: FutexStatistics?
    /// For a rwlock: its holds and waits by mode.
    public var rwlock: RWLockStatistics?
    /// What its holders waited for while they held it (nil: nothing).
    public var holderWaits: HolderWaits?

    public var contendedPercent: Double {
        acquisitions == 0 ? 0 : 100 * Double(contendedAcquisitions) / Double(acquisitions)
    }
}

/// A rwlock's holds and waits by mode: readers hold it together, so its
/// hold total counts overlapping read holds and a writer waits for all of them.
public struct RWLockStatistics: Sendable, Codable, Equatable {
    public var readAcquisitions = 0
    public var readHoldNanoseconds: UInt64 = 0
    public var readWaits = 0
    public var readWaitNanoseconds: UInt64 = 0
    public var writeAcquisitions = 0
    public var writeHoldNanoseconds: UInt64 = 0
    public var writeWaits = 0
    public var writeWaitNanoseconds: UInt64 = 0
    public var writeWaitMaxNanoseconds: UInt64 = 0

    /// A closed hold or wait of the rwlock, counted in its mode (condition waits are not its).
    mutating func add(_ interval: LockInterval) {
        let read = interval.flags.contains(.shared), d = interval.duration
        switch interval.kind {
        case .hold:
            if read { readAcquisitions += 1; readHoldNanoseconds = readHoldNanoseconds.adding(saturating: d) }
            else { writeAcquisitions += 1; writeHoldNanoseconds = writeHoldNanoseconds.adding(saturating: d) }
        case .wait:
            if read { readWaits += 1; readWaitNanoseconds = readWaitNanoseconds.adding(saturating: d) }
            else {
                writeWaits += 1
                writeWaitNanoseconds = writeWaitNanoseconds.adding(saturating: d)
                writeWaitMaxNanoseconds = max(writeWaitMaxNanoseconds, d)
            }
        case .conditionWait:
            break
        }
    }
}

public struct CallSiteStatistics: Sendable, Codable, Equatable {
    /// "worker_loop+0x2c (app)".
    public var site: String
    public var acquisitions: Int
    public var waits: Int
    public var waitNanoseconds: UInt64
}

public struct ConditionStatistics: Sendable, Codable {
    public var index: Int
    public var pid: Int32
    public var address: String
    public var waits: Int
    public var waitTotalNanoseconds: UInt64
    public var waitMaxNanoseconds: UInt64
    /// Where it was waited on (the caller of pthread_cond_*wait; for HotSpot the frame above it).
    public var callSites: [CallSiteStatistics] = []
}
