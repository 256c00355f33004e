import GtraceFormat

/// Other programs' load, measured from perf's switch records (docs/METRICS.md,
/// "Foreign load"): the time the tree's threads were runnable (preempted,
/// waiting for a CPU) while fewer of them than CPUs were running, so that
/// another program held the CPU they waited for.
struct ForeignLoadTracker {
    private enum State { case unknown, running, runnable, off }
    private let cores: Int
    private let processOf: [Int]
    private var state: [State]
    private var running = 0
    private var runnable = 0
    private var last: UInt64?
    /// ∫ [runnable > 0 and running < cores] dt.
    private(set) var wallNanoseconds: UInt64 = 0
    /// ∫ min(runnable, cores − running) dt: CPUs the tree wanted that others held.
    private(set) var cpuNanoseconds: UInt64 = 0
    /// ∫ [running < cores] dt, the clock a runnable thread's foreign wait is read from.
    private var freeClock: UInt64 = 0
    private var runnableSince: [UInt64]
    /// The tree's thread each CPU last switched in (-1: none): a switch-in on a CPU ends whatever
    /// ran there, even when its switch-out record is missing (a thread that exited, a lost record).
    private var onCPUOf: [Int] = []
    private var cpuOf: [Int]
    /// Per thread: runnable time while fewer than `cores` of the tree's threads ran.
    private(set) var threadNanoseconds: [UInt64]
    /// A thread that called exec → the thread of the new image that goes on running in its
    /// place (same tid): perf has no switch record at the exec, and the new image's first
    /// one may come milliseconds later (the kernel's exec, the loader).
    private let continuations: [Int: Int]
    /// The tree's on-CPU time per CPU, and since when each running thread has run.
    private var timeOn: [UInt64] = []
    private var runningSince: [UInt64]
    /// The CPUs that ran at least 5% of the tree's on-CPU time (a `taskset` that pins the
    /// command runs a moment on another CPU before its exec).
    var cpusUsed: Int {
        let total = timeOn.saturatingSum
        return timeOn.filter { $0 > 0 && $0 >= total / 20 }.count
    }

    init(threadProcesses: [Int], cores: Int, continuations: [Int: Int] = [:]) {
        self.cores = max(cores, 1)
        self.continuations = continuations
        processOf = threadProcesses
        state = Array(repeating: .unknown, count: threadProcesses.count)
        runnableSince = Array(repeating: 0, count: threadProcesses.count)
        threadNanoseconds = Array(repeating: 0, count: threadProcesses.count)
        cpuOf = Array(repeating: -1, count: threadProcesses.count)
        runningSince = Array(repeating: 0, count: threadProcesses.count)
    }

    private mutating func advance(to time: UInt64) {
        guard let from = last else {
            last = time
            return
        }
        guard time > from else { return }
        let span = time - from
        if running < cores {
            freeClock = freeClock.adding(saturating: span)
            if runnable > 0 {
                wallNanoseconds = wallNanoseconds.adding(saturating: span)
                cpuNanoseconds = cpuNanoseconds.adding(saturating: span.multiplied(saturating: UInt64(min(runnable, cores - running))))
            }
        }
        last = time
    }

    private mutating func set(_ t: Int, _ new: State) {
        let old = state[t]
        guard old != new else { return }
        if old == .running {
            running -= 1
            let cpu = cpuOf[t]
            if cpu >= 0, cpu < 4096, let now = last, now > runningSince[t] {
                if timeOn.count <= cpu { timeOn += Array(repeating: 0, count: cpu + 1 - timeOn.count) }
                timeOn[cpu] = timeOn[cpu].adding(saturating: now - runningSince[t])
            }
        }
        if old == .runnable {
            runnable -= 1
            threadNanoseconds[t] = threadNanoseconds[t].adding(saturating: freeClock &- runnableSince[t])
        }
        if new == .running {
            running += 1
            runningSince[t] = last ?? 0
        }
        if new == .runnable {
            runnable += 1
            runnableSince[t] = freeClock
        }
        state[t] = new
    }

    mutating func consume(_ event: TraceEvent) {
        let t = event.thread
        guard state.indices.contains(t) else { return }
        switch event.kind {
        case let .cpuIn(cpu):
            advance(to: event.time)
            if cpu >= 0 && cpu < 4096 {
                if onCPUOf.count <= cpu { onCPUOf += Array(repeating: -1, count: cpu + 1 - onCPUOf.count) }
                let previous = onCPUOf[cpu]
                if previous >= 0, previous != t, state[previous] == .running, cpuOf[previous] == cpu { set(previous, .off) }
                onCPUOf[cpu] = t
                cpuOf[t] = cpu
            }
            set(t, .running)
        case let .cpuOut(_, preempted):
            advance(to: event.time)
            set(t, preempted ? .runnable : .off)
        case .threadEnd:
            advance(to: event.time)
            set(t, .off)
        case .processExit, .exec:
            advance(to: event.time)
            let wasRunning = state[t] == .running
            let process = processOf[t]
            for other in processOf.indices where processOf[other] == process { set(other, .off) }
            if case .exec = event.kind, wasRunning, let next = continuations[t], state.indices.contains(next), state[next] == .unknown {
                if cpuOf[t] >= 0, cpuOf[t] < onCPUOf.count, onCPUOf[cpuOf[t]] == t { onCPUOf[cpuOf[t]] = next }
                cpuOf[next] = cpuOf[t]
                set(next, .running)
            }
        default:
            break
        }
    }

    mutating func finish(at time: UInt64) {
        advance(to: time)
        for t in state.indices { set(t, .off) }
    }
}
