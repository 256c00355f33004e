import CGtraceFormat

/// How a process ended.
public enum ExitKind: UInt8, Sendable, Codable {
    case unknown = 0, exitCall = 1, underscoreExit = 2, mainReturn = 3, signal = 4, exec = 5, waitStatus = 6

    public var label: String {
        switch self {
        case .unknown: return "no exit record"
        case .exitCall: return "exit"
        case .underscoreExit: return "_exit"
        case .mainReturn: return "return from main"
        case .signal: return "killed by signal"
        case .exec: return "exec"
        case .waitStatus: return "exited"
        }
    }
}

/// How a thread ended.
public enum ThreadEndKind: UInt8, Sendable, Codable {
    case unknown = 0, returned = 1, pthreadExit = 2, processEnded = 3

    public var label: String {
        switch self {
        case .unknown: return "ended with the process"
        case .returned: return "returned"
        case .pthreadExit: return "pthread_exit"
        case .processEnded: return "process ended"
        }
    }
}

/// What kind of synchronisation object a lock id names.
public enum LockKind: UInt8, Sendable, Codable {
    /// `gil`: a CPython process's global interpreter lock (one per process).
    /// `futex`: a futex word waited on or woken through libc's `syscall()`
    /// (Rust std, parking_lot, Swift Synchronization...): only its waits and
    /// wakes are seen, never an uncontended hold.
    /// `pythonLock`: a CPython lock (threading.Lock & co., a POSIX semaphore up to 3.13).
    /// `spinlock`: a `pthread_spinlock_t` (its waiters spin on a CPU).
    /// `fileLock`: a `flock()` lock, or an `fcntl()` record lock of a whole file: one per file
    /// in every process (shared mode: a read hold).
    /// `semaphore`: a POSIX semaphore made with value 1 (`sem_init`, `sem_open`), not a
    /// Python lock: taken with `sem_wait`, given back with `sem_post`, by threads or processes.
    case mutex = 0, rwlock = 1, condition = 2, gil = 3, futex = 4, pythonLock = 5, spinlock = 6, fileLock = 7, semaphore = 8

    public var label: String {
        switch self {
        case .mutex: return "mutex"
        case .rwlock: return "rwlock"
        case .condition: return "cond"
        case .gil: return "GIL"
        case .futex: return "futex"
        case .pythonLock: return "Python lock"
        case .spinlock: return "spinlock"
        case .fileLock: return "file lock"
        case .semaphore: return "semaphore"
        }
    }

    /// A POSIX semaphore (a Python lock up to 3.13, or a binary one): any thread may post
    /// it, so a release by another thread than the holder is a hand-over, and one posted
    /// beyond 1 is a counter.
    public var isSemaphore: Bool { self == .pythonLock || self == .semaphore }
}

/// How the runtime located a process's GIL (`gtrace_gil_status`).
public struct GILStatus: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let byLayout = GILStatus(rawValue: GTRACE_GIL_BY_LAYOUT.rawValue)
    public static let byPattern = GILStatus(rawValue: GTRACE_GIL_BY_PATTERN.rawValue)
    public static let disagree = GILStatus(rawValue: GTRACE_GIL_DISAGREE.rawValue)
    public static let disabled = GILStatus(rawValue: GTRACE_GIL_DISABLED.rawValue)
    public static let unknownVersion = GILStatus(rawValue: GTRACE_GIL_UNKNOWN_VERSION.rawValue)
    public static let subinterpreter = GILStatus(rawValue: GTRACE_GIL_SUBINTERPRETER.rawValue)

    /// One line saying how the GIL was found.
    public var label: String {
        if contains(.disabled) { return "GIL disabled (free-threaded build)" }
        if contains(.disagree) { return "layout and mutex pattern disagree: GIL not traced" }
        var parts: [String] = []
        if contains(.byLayout) { parts.append("version layout") }
        if contains(.byPattern) { parts.append("mutex-init pattern") }
        if contains(.unknownVersion) { parts.append("unknown version") }
        let found = parts.isEmpty ? "not located" : "located by " + parts.joined(separator: " + ")
        return contains(.subinterpreter) ? "a subinterpreter's own GIL, " + found : found
    }
}

/// CPython facts of one process: where its GIL is and CPython's own counters.
public struct GILInfo: Sendable, Equatable {
    public var process: Int
    /// The lock id under which the GIL's waits and holds are recorded, if traced.
    public var lock: Int?
    /// PY_VERSION_HEX, e.g. 0x030b07f0.
    public var versionHex: UInt32
    public var status: GILStatus
    public var address: UInt64
    public var runtimeAddress: UInt64
    /// CPython's `switch_number` and `interval` (µs) read at process exit.
    /// `switch_number` counts changes of GIL holder (plus one for the first).
    public var switchNumber: UInt64?
    public var intervalMicroseconds: UInt64?
    /// The `switch_number` a fork child inherited from its parent.
    public var inheritedSwitchNumber: UInt64?
    /// Acquisitions that changed CPython's thread state (`last_holder`) but not
    /// the thread: a thread running in several interpreters that share the GIL.
    /// `switch_number` counts them; hand-offs between threads do not (nil: not recorded).
    public var sameThreadSwitches: UInt64?
    /// Hand-offs to another thread that `switch_number` did not count: the new
    /// holder's thread state had the address of the previous one's (memory reused).
    public var reusedThreadStates: UInt64?

    public init(process: Int, lock: Int?, versionHex: UInt32, status: GILStatus, address: UInt64,
                runtimeAddress: UInt64, switchNumber: UInt64?, intervalMicroseconds: UInt64?,
                inheritedSwitchNumber: UInt64? = nil, sameThreadSwitches: UInt64? = nil, reusedThreadStates: UInt64? = nil) {
        self.process = process
        self.lock = lock
        self.versionHex = versionHex
        self.status = status
        self.address = address
        self.runtimeAddress = runtimeAddress
        self.switchNumber = switchNumber
        self.intervalMicroseconds = intervalMicroseconds
        self.inheritedSwitchNumber = inheritedSwitchNumber
        self.sameThreadSwitches = sameThreadSwitches
        self.reusedThreadStates = reusedThreadStates
    }

    /// Hand-offs (changes of holder) CPython counted in this process. Its first
    /// acquisition counts one (last_holder starts NULL; a fork child's GIL is
    /// re-created with it NULL too), on top of the count a fork child inherited.
    public var cpythonHandOffs: UInt64? {
        guard let switchNumber else { return nil }
        let base = (inheritedSwitchNumber ?? 0) + 1
        return switchNumber >= base ? switchNumber - base : 0
    }

    /// "3.11.7" from PY_VERSION_HEX.
    public var version: String {
        "\(versionHex >> 24).\((versionHex >> 16) & 0xff).\((versionHex >> 8) & 0xff)"
    }

    /// "3.11" from PY_VERSION_HEX.
    public var majorMinor: String { "\(versionHex >> 24).\((versionHex >> 16) & 0xff)" }
}

/// Flags carried by lock events (the high bits of an event opcode).
public struct LockFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let rwlock = LockFlags(rawValue: UInt8(GTRACE_LOCKF_RWLOCK.rawValue))
    public static let shared = LockFlags(rawValue: UInt8(GTRACE_LOCKF_SHARED.rawValue))
    public static let viaCondition = LockFlags(rawValue: UInt8(GTRACE_LOCKF_VIA_COND.rawValue))
}

/// Facts about the whole recording.
public struct RunInfo: Sendable, Equatable {
    /// Free-form key/value pairs (command, host, cpus, gtrace version...), in order.
    public var values: [(key: String, value: String)]
    public init(values: [(key: String, value: String)] = []) { self.values = values }

    public subscript(key: String) -> String? {
        values.last(where: { $0.key == key })?.value
    }

    public static func == (a: RunInfo, b: RunInfo) -> Bool {
        a.values.map(\.key) == b.values.map(\.key) && a.values.map(\.value) == b.values.map(\.value)
    }
}

/// The time base: every time in a trace is nanoseconds since `epochMonotonicNanoseconds`.
public struct ClockInfo: Sendable, Equatable {
    public var epochMonotonicNanoseconds: UInt64
    public var epochRealtimeNanoseconds: UInt64
    /// TSC ticks per nanosecond of the fit used (0 when timestamps were not TSC).
    public var ticksPerNanosecond: Double
    /// Largest residual of the fit, in nanoseconds.
    public var maxResidualNanoseconds: UInt64
    /// End of the recording window (ns since epoch).
    public var recordingEndNanoseconds: UInt64

    public init(epochMonotonicNanoseconds: UInt64 = 0, epochRealtimeNanoseconds: UInt64 = 0,
                ticksPerNanosecond: Double = 0, maxResidualNanoseconds: UInt64 = 0,
                recordingEndNanoseconds: UInt64 = 0) {
        self.epochMonotonicNanoseconds = epochMonotonicNanoseconds
        self.epochRealtimeNanoseconds = epochRealtimeNanoseconds
        self.ticksPerNanosecond = ticksPerNanosecond
        self.maxResidualNanoseconds = maxResidualNanoseconds
        self.recordingEndNanoseconds = recordingEndNanoseconds
    }
}

/// One process image (a pid between two execs).
public struct ProcessInfo: Sendable, Equatable {
    public var index: Int
    public var pid: Int32
    public var ppid: Int32
    /// Index of the parent process in the trace, if it was traced.
    public var parent: Int?
    /// 0 for the first image of a pid, +1 after each exec.
    public var image: Int
    public var executable: String
    public var arguments: [String]
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64?
    public var exitKind: ExitKind
    public var exitStatus: Int32
    public var userCPUNanoseconds: UInt64
    public var systemCPUNanoseconds: UInt64
    /// False for a process the runtime could not enter (static or setuid
    /// program): known only from its parent's side and from perf.
    public var instrumented: Bool

    public init(index: Int, pid: Int32, ppid: Int32, parent: Int?, image: Int, executable: String,
                arguments: [String], startNanoseconds: UInt64, endNanoseconds: UInt64?,
                exitKind: ExitKind, exitStatus: Int32, userCPUNanoseconds: UInt64, systemCPUNanoseconds: UInt64,
                instrumented: Bool = true) {
        self.instrumented = instrumented
        self.index = index
        self.pid = pid
        self.ppid = ppid
        self.parent = parent
        self.image = image
        self.executable = executable
        self.arguments = arguments
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
        self.exitKind = exitKind
        self.exitStatus = exitStatus
        self.userCPUNanoseconds = userCPUNanoseconds
        self.systemCPUNanoseconds = systemCPUNanoseconds
    }

    /// A short name: the base name of argv[0], else of the executable.
    public var shortName: String {
        let path = arguments.first ?? executable
        return path.split(separator: "/").last.map(String.init) ?? path
    }
}

/// One thread of one process image.
public struct ThreadInfo: Sendable, Equatable {
    public var index: Int
    public var process: Int
    public var tid: Int32
    /// The last name the thread had.
    public var name: String
    /// Index of the thread that created it, if known.
    public var creator: Int?
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64?
    public var endKind: ThreadEndKind
    public var cpuNanoseconds: UInt64?

    public init(index: Int, process: Int, tid: Int32, name: String, creator: Int?, startNanoseconds: UInt64,
                endNanoseconds: UInt64?, endKind: ThreadEndKind, cpuNanoseconds: UInt64?) {
        self.index = index
        self.process = process
        self.tid = tid
        self.name = name
        self.creator = creator
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
        self.endKind = endKind
        self.cpuNanoseconds = cpuNanoseconds
    }
}

/// One lock (or condition variable) of one process.
public struct LockInfo: Sendable, Equatable {
    public var index: Int
    public var process: Int
    public var address: UInt64
    public var kind: LockKind

    public init(index: Int, process: Int, address: UInt64, kind: LockKind) {
        self.index = index
        self.process = process
        self.address = address
        self.kind = kind
    }

    public var addressText: String { "0x" + String(address, radix: 16) }
}

/// Everything in a trace but its events.
public struct TraceTables: Sendable, Equatable {
    public var version: Int = Int(GTRACE_FILE_VERSION)
    public var features: UInt16 = 0
    public var info = RunInfo()
    public var clock = ClockInfo()
    public var strings: [String] = []
    public var processes: [ProcessInfo] = []
    public var threads: [ThreadInfo] = []
    public var locks: [LockInfo] = []
    /// One entry per CPython process.
    public var gils: [GILInfo] = []
    /// Names of locks, from the symbols of the objects they live in.
    public var lockNames: [LockName] = []
    /// Where the program acquired each lock, with the waits there.
    public var callSites: [CallSite] = []
    /// Python code objects named by the Python locations of the events.
    public var pythonCodes: [PythonCode] = []

    public init() {}
}

/// One event. `time` is nanoseconds since the trace epoch; `thread` a thread index.
public struct TraceEvent: Sendable, Equatable {
    public var time: UInt64
    public var thread: Int
    public var kind: EventKind

    public init(time: UInt64, thread: Int, kind: EventKind) {
        self.time = time
        self.thread = thread
        self.kind = kind
    }
}

/// What happened. Lock and condition operands are lock indices.
public enum EventKind: Sendable, Equatable {
    case processStart
    case processExit(kind: ExitKind, status: Int32)
    case threadStart(creator: Int?)
    case threadEnd(kind: ThreadEndKind, cpuNanoseconds: UInt64)
    case threadName(string: Int)
    case fork(childPid: Int32)
    case exec
    case lockAcquire(lock: Int, flags: LockFlags)
    case lockWait(lock: Int, flags: LockFlags)
    case lockAcquired(lock: Int, flags: LockFlags)
    case lockFailed(lock: Int, flags: LockFlags, error: Int32)
    case lockRelease(lock: Int, flags: LockFlags)
    case lockTryFailed(lock: Int, flags: LockFlags)
    case conditionWait(condition: Int, mutex: Int)
    case conditionWoke(condition: Int, mutex: Int, result: Int32)
    /// A futex wait (begun by `lockWait` on the futex word's lock) returned:
    /// `result` 0 when woken (or a PI lock taken), else -errno (-EAGAIN: the
    /// word had changed, -ETIMEDOUT, -EINTR).
    case futexWoke(lock: Int, result: Int32)
    /// A futex wake call on the word: `result` threads woken (plus requeued
    /// for the requeue commands), or -errno.
    case futexWake(lock: Int, result: Int32)
    /// A wrapped blocking call started: `small` is its pid/fd/nfds argument,
    /// `argument` the requested time (UInt64.max: none) or the waited-on object.
    case blockBegin(call: BlockingCall, small: UInt32, argument: UInt64)
    /// It returned: `result` is its return value (the reaped pid for waits),
    /// `detail` the wait status for waits, else errno.
    case blockEnd(call: BlockingCall, result: Int32, detail: UInt64)
    /// The scheduler put the thread on `cpu` (perf).
    case cpuIn(cpu: Int)
    /// The thread left `cpu`; `preempted`: it was still runnable.
    case cpuOut(cpu: Int, preempted: Bool)
    /// Who woke whom, for the replay: see `WakerKind` for `object` and `value`.
    case waker(kind: WakerKind, object: UInt64, value: UInt64)
    /// The Python stack (innermost first) of this thread at its preceding GIL
    /// event (acquisition or release).
    case pythonLocation(frames: PythonStack)
    /// This thread, waiting for the GIL `lock`, sampled its holder's Python stack.
    case pythonSample(lock: Int, frames: PythonStack)
}

/// One Python frame: a code object (index into `pythonCodes`, nil when the
/// runtime never named it) and a line (0: unknown).
public struct PythonFrame: Sendable, Hashable {
    public var code: Int?
    public var line: UInt32
    public init(code: Int?, line: UInt32) {
        self.code = code
        self.line = line
    }
}

/// A Python code object of one process: `Worker.run` in app.py from line 12.
public struct PythonCode: Sendable, Equatable {
    public var index: Int
    public var process: Int
    public var address: UInt64
    public let qualifiedName: String
    public let file: String
    public let firstLine: UInt32
    /// The file's base name ("app.py"); a package's `__init__.py` or `__main__.py`
    /// with its directory ("logging/__init__.py"), since every package has one.
    public let baseName: String
    /// "run (app.py:12)": the function and where it starts. Made once: reports and
    /// exports name a code object at every GIL event.
    public let label: String
    public init(index: Int, process: Int, address: UInt64, qualifiedName: String, file: String, firstLine: UInt32) {
        self.index = index
        self.process = process
        self.address = address
        self.qualifiedName = qualifiedName
        self.file = file
        self.firstLine = firstLine
        let parts = file.split(separator: "/")
        if parts.count >= 2, parts.last == "__init__.py" || parts.last == "__main__.py" {
            baseName = parts.suffix(2).joined(separator: "/")
        } else {
            baseName = parts.last.map(String.init) ?? file
        }
        label = baseName.isEmpty ? qualifiedName : "\(qualifiedName) (\(baseName):\(firstLine))"
    }

    /// "app.py:42 in worker": a line of this code, as call sites and wait sites name it.
    public func site(line: UInt32) -> String { "\(baseName):\(line) in \(qualifiedName)" }
}

/// What a waker event says (`enum gtrace_waker_kind`).
public struct WakerKind: RawRepresentable, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// A read-like call blocked on I/O object `object` (fd in `value`); its block-end follows.
    public static let ioWait = WakerKind(rawValue: 1)
    /// A write-like call on I/O object `object` (a pipe, socket or eventfd). `value`: the fd in
    /// its low 32 bits, and in its high 32 the bytes written to it since its previous io-write
    /// event, this write's included (0 in traces older than this count: unknown).
    public static let ioWrite = WakerKind(rawValue: 2)

    /// The bytes an io-write event's `value` counts (see `ioWrite`).
    public static func writtenBytes(_ value: UInt64) -> UInt64 { value >> 32 }
    /// A select/poll that blocked returned with I/O object `object` ready.
    public static let ioReady = WakerKind(rawValue: 3)
    /// pthread_cond_signal / broadcast on condition lock `object`.
    public static let condSignal = WakerKind(rawValue: 4)
    public static let condBroadcast = WakerKind(rawValue: 5)
    /// A WNOHANG wait reaped child `object` (wait status in `value`).
    public static let reaped = WakerKind(rawValue: 6)
    /// kill(`object`, `value`).
    public static let kill = WakerKind(rawValue: 7)
    /// A read-like call got data from I/O object `object` without blocking.
    public static let ioRead = WakerKind(rawValue: 8)
    /// sem_post on the semaphore at address `object` of the poster's process (outside CPython's locks).
    public static let semPost = WakerKind(rawValue: 9)

    public var name: String {
        switch rawValue {
        case 1: return "io-wait"
        case 2: return "io-write"
        case 3: return "io-ready"
        case 4: return "cond-signal"
        case 5: return "cond-broadcast"
        case 6: return "reaped"
        case 7: return "kill"
        case 8: return "io-read"
        case 9: return "sem-post"
        default: return "waker\(rawValue)"
        }
    }

    /// The id of an I/O object from its inode and device.
    public static func objectID(inode: UInt64, device: UInt64) -> UInt64 {
        inode ^ (device &* 0x9E37_79B9_7F4A_7C15)
    }
}

/// A lock's name: "queue_lock (app)", "_PyRuntime+0x168 (python3.11)", "heap 0x… first used at f+0x2c (app)".
public struct LockName: Sendable, Equatable {
    public var lock: Int
    public var name: String
    /// How a 3.14+ Python lock (a PyMutex: a futex word to the trace) is named.
    public static let pyMutexPrefix = "Python lock (PyMutex)"
    public init(lock: Int, name: String) {
        self.lock = lock
        self.name = name
    }
}

/// One place that acquired a lock: "worker_loop+0x2c (app)".
public struct CallSite: Sendable, Equatable {
    public var lock: Int
    public var site: String
    public var acquisitions: Int
    /// Acquisitions that had to wait, and how long they waited in total.
    public var waits: Int
    public var waitNanoseconds: UInt64
    public init(lock: Int, site: String, acquisitions: Int, waits: Int, waitNanoseconds: UInt64) {
        self.lock = lock
        self.site = site
        self.acquisitions = acquisitions
        self.waits = waits
        self.waitNanoseconds = waitNanoseconds
    }
}
