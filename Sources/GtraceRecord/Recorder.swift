import CGtraceFormat
import CGtraceSystem
import Foundation
import GtraceFormat
#if canImport(Glibc)
import Glibc
#endif

/// `gtrace record`: runs a command under the preload runtime and writes one trace.
public struct Recorder {
    public struct Result {
        /// The command's status in shell terms (its code, or 128 + signal).
        public var exitStatus: Int32
        public var eventCount: Int
        public var processCount: Int
        public var threadCount: Int
        public var lockCount: Int
        public var durationNanoseconds: UInt64
        public var fileBytes: Int
        /// True when no process of the tree ran the runtime (static or setuid command).
        public var nothingRecorded: Bool
        public var warnings: [String]
        /// From `gtrace record` starting its work to the command's spawn, and
        /// from the tree's end to the trace written: the fixed cost of a recording.
        public var setupNanoseconds: UInt64 = 0
        public var mergeNanoseconds: UInt64 = 0
        /// Part of the merge: naming locks and call sites, and the ELF files read for it.
        public var symbolNanoseconds: UInt64 = 0
        public var symbolFiles = 0
        /// Of those, the ones whose symbols came from the symbol cache (by build-id).
        public var symbolFilesCached = 0
        /// "153 processes (100 execs), 153 threads" (TraceTables.processAndThreadCounts).
        public var processAndThreadCounts = ""

        /// The one line `gtrace record` prints on stderr.
        public func summaryLine(path: String) -> String {
            let perEvent = eventCount > 0 ? String(format: "%.2f", Double(fileBytes) / Double(eventCount)) : "-"
            let counts = processAndThreadCounts.isEmpty ? "\(processCount) processes, \(threadCount) threads" : processAndThreadCounts
            return "gtrace: recorded \(eventCount) events, \(counts), \(lockCount) locks in "
                + String(format: "%.3f", Double(durationNanoseconds) / 1e9) + " s -> \(path) (\(fileBytes) bytes, \(perEvent) bytes/event; "
                + String(format: "set-up %.1f ms, merge %.1f ms, of which symbols %.1f ms for %d objects, %d cached)", Double(setupNanoseconds) / 1e6,
                         Double(mergeNanoseconds) / 1e6, Double(symbolNanoseconds) / 1e6, symbolFiles, symbolFilesCached)
        }
    }

    public var command: [String]
    /// The command as the bytes gtrace received (`RawCommandLine`); nil: `command`'s UTF-8.
    public var commandBytes: [[CChar]]?
    public var outputPath: String
    public var runtimePath: String

    public init(command: [String], commandBytes: [[CChar]]? = nil, outputPath: String, runtimePath: String) {
        self.command = command
        self.commandBytes = commandBytes
        self.outputPath = outputPath
        self.runtimePath = runtimePath
    }

    /// The recorder's own CPU time (every thread of it: the live scan, perf's rings).
    static func ownCPUNanoseconds() -> UInt64 {
        let own = ResourceUsage.cpuNanoseconds(RUSAGE_SELF)
        return own.user + own.system
    }

    /// Fails unless `path` is absent, empty, or already a gtrace trace.
    public static func checkOverwritable(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: Int(GTRACE_FILE_MAGIC_SIZE))) ?? Data()
        if head.isEmpty { return }
        if [UInt8](head) != Array(GTRACE_FILE_MAGIC.utf8).prefix(Int(GTRACE_FILE_MAGIC_SIZE)).map({ $0 }) {
            throw RecordError.refuseOverwrite(path: path)
        }
    }

    /// Fails unless a trace can be created at `path`: checked before the
    /// command runs, so that an unwritable -o (a directory, a missing or
    /// read-only directory) never costs the whole run.
    public static func checkWritable(_ path: String) throws {
        if path == "-" { return }
        func failure(_ what: String) -> RecordError {
            .unwritableOutput(path: path, reason: what + String(cString: strerror(errno)))
        }
        var info = stat()
        if stat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { throw RecordError.unwritableOutput(path: path, reason: "it is a directory") }
            if access(path, W_OK) != 0 { throw failure("") }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        let directory = parent.isEmpty ? "." : parent
        if stat(directory, &info) != 0 { throw failure("directory \(directory): ") }
        if info.st_mode & S_IFMT != S_IFDIR { throw RecordError.unwritableOutput(path: path, reason: "\(directory) is not a directory") }
        if access(directory, W_OK | X_OK) != 0 { throw failure("directory \(directory): ") }
    }

    /// Runs the command and writes the trace.
    /// - Throws: `RecordError`, `TraceError`; a command that cannot be started gives
    ///   `TargetLauncher.LaunchFailure` wrapped in `RecordError.launch`, see `launchStatus`.
    public func run() throws -> Result {
        let setupStart = Clocks.now().monotonic
        let inherited = InheritedSignals.capture()
        // A `ulimit -f` makes the recorder's own writes (session files, the
        // trace) fail with EFBIG instead of killing it: it can say what failed.
        signal(SIGXFSZ, SIG_IGN)
        try Self.checkOverwritable(outputPath)
        try Self.checkWritable(outputPath)
        let session = try SessionDirectory()
        defer { session.remove() }

        let preload = getenv("LD_PRELOAD").map { "\(runtimePath) \(String(cString: $0))" } ?? runtimePath
        var overrides = [("LD_PRELOAD", preload), (GTRACE_ENV_SESSION, session.path)]
        if let drop = session.dropName { overrides.append((GTRACE_ENV_DROP, drop)) }
        let environment = RawCommandLine.environment(overriding: overrides)

        var pairs: [(tsc: UInt64, monotonic: UInt64)] = []
        let (epochMono, epochReal) = Clocks.now()
        pairs.append(Clocks.timestampPair())
        let launcher = TargetLauncher(command: commandBytes ?? command.map { Array($0.utf8CString) }, environment: environment, inherited: inherited)
        let pool = ChunkPool(session: session.path)
        pool?.start()
        let liveScan = LiveScan(session: session.path)
        liveScan?.start()
        let clockSampler = ClockPairSampler()
        clockSampler.start()
        defer { _ = clockSampler.stop() }
        // Opened last before the spawn: the command inherits the rings.
        var perfRefusal: String?
        var perf: PerfRecorder?
        do {
            perf = try PerfRecorder(session: session.path)
        } catch let refusal as PerfRecorder.Refusal {
            perfRefusal = refusal.reason
        }
        // The rings keep perf's scheduler hooks on: the warm-up event is no longer needed.
        gtrace_perf_warm_finish()
        perf?.start()
        let outcome: TargetLauncher.Outcome
        var spawned = setupStart
        let budget = CPUBudget.current()
        let machineAtSpawn = MachineCPUTimes.read(cpus: budget.affinity?.restricted)
        let recorderAtSpawn = Self.ownCPUNanoseconds()
        do {
            defer {
                pool?.stop()
                perf?.stop()
                _ = liveScan?.stop()
            }
            outcome = try launcher.run(onStarted: { pid in
                spawned = Clocks.now().monotonic
                SessionFacts(recorderPid: getpid(), rootPid: pid, command: command, epochMonotonicNanoseconds: epochMono,
                             epochRealtimeNanoseconds: epochReal, cpus: budget.cores,
                             host: Self.hostName(), gtraceVersion: gtraceVersion).write(session: session.path)
            })
        } catch let failure as TargetLauncher.LaunchFailure {
            throw LaunchError(command: command[0], status: failure.status, reason: failure.reason)
        }
        let endMono = Clocks.now().monotonic
        let machineAtEnd = MachineCPUTimes.read(cpus: budget.affinity?.restricted)
        let recorderCPU = Self.ownCPUNanoseconds() &- recorderAtSpawn
        // After the run (0.3 ms): the least each of its records cost it.
        let recordCost = gtrace_record_cost_ps()
        let live = liveScan?.stop() ?? [:]
        pairs += clockSampler.stop()
        pairs.append(Clocks.timestampPair())

        let contents = SessionReader.read(directory: session.path, dropBox: session.dropName, mapped: liveScan?.mapped ?? [:])
        let facts = LaunchFacts(command: command, rootPid: outcome.rootPid, rootExitCode: outcome.exitCode,
                                rootSignal: outcome.signal, epochMonotonic: epochMono, epochRealtime: epochReal,
                                endMonotonic: endMono, clockPairs: pairs,
                                treeUserNanoseconds: outcome.userNanoseconds, treeSystemNanoseconds: outcome.systemNanoseconds,
                                info: [("gtrace_version", gtraceVersion), ("host", Self.hostName()),
                                       ("root_pid", "\(outcome.rootPid)"),
                                       ("pool_chunks_used", "\(pool?.claimed ?? 0)"), ("pool_chunks_missed", "\(pool?.fallbacks ?? 0)"),
                                       ("live_scanned_chunks", "\(live.values.reduce(0) { $0 + $1.state.chunks.count })"),
                                       ("record_cost_ps", "\(recordCost)"), ("recorder_cpu_ns", "\(recorderCPU)")]
                                    + budget.info()
                                    + MachineCPUTimes.info(from: machineAtSpawn, to: machineAtEnd),
                                reapedStatus: outcome.reaped,
                                perf: perf == nil ? nil : PerfData(directory: session.path + "/" + PerfRecorder.directoryName),
                                perfRefusal: perfRefusal)
        var builder = TraceBuilder(session: contents, facts: facts, live: live)
        builder.build()
        // The events are encoded: nothing reads the session's files again.
        session.startFreeing()
        var tables = builder.tables
        let nothingRecorded = !tables.processes.contains { $0.instrumented }
        if !tables.processes.contains(where: { $0.pid == outcome.rootPid }) {
            // The command never ran the runtime (static, setuid): describe it from the launcher's side.
            tables.processes.append(GtraceFormat.ProcessInfo(
                index: tables.processes.count, pid: outcome.rootPid, ppid: getpid(), parent: nil, image: 0,
                executable: command[0], arguments: command, startNanoseconds: 0,
                endNanoseconds: tables.clock.recordingEndNanoseconds,
                exitKind: outcome.signal != nil ? .signal : .waitStatus, exitStatus: outcome.signal ?? outcome.exitCode ?? 0,
                userCPUNanoseconds: 0, systemCPUNanoseconds: 0))
            tables.info.values.append((key: "root_instrumented", value: "no"))
        }
        let writer: TraceFileWriter
        do {
            writer = try Self.write(tables, builder.blocks, to: outputPath)
        } catch {
            // A full disk, `ulimit -f` (SIGXFSZ is ignored by the recorder): say
            // so, with the command's own status, instead of a bare exit 1.
            throw RecordError.writeFailed(path: outputPath, reason: "\(error)", commandStatus: TargetLauncher.shellStatus(outcome))
        }
        // The writer's own reader must accept what it wrote (the tables: a quick check).
        var written = stat()
        if outputPath != "-", stat(outputPath, &written) == 0, written.st_mode & S_IFMT == S_IFREG {
            _ = try TraceFile(path: outputPath)
        }

        var result = Result(exitStatus: TargetLauncher.shellStatus(outcome), eventCount: writer.eventCount,
                      processCount: tables.processes.count, threadCount: tables.threads.count,
                      lockCount: tables.locks.filter { $0.kind != .condition }.count,
                      durationNanoseconds: endMono - epochMono, fileBytes: writer.bytesWritten,
                      nothingRecorded: nothingRecorded, warnings: builder.warnings + contents.runtimeMessages)
        result.setupNanoseconds = spawned - setupStart
        result.mergeNanoseconds = Clocks.now().monotonic - endMono
        result.symbolNanoseconds = builder.symbolNanoseconds
        result.processAndThreadCounts = tables.processAndThreadCounts
        result.symbolFiles = builder.symbolObjectsRead
        result.symbolFilesCached = builder.symbolObjectsCached
        return result
    }

    /// Writes a built trace to `path` ("-": stdout).
    static func write(_ tables: TraceTables, _ blocks: [EncodedBlock], to path: String) throws -> TraceFileWriter {
        let writer = try TraceFileWriter(path: path)
        for s in tables.strings { _ = writer.intern(s) }
        try writer.writeTables(tables)
        for block in blocks { try writer.write(block) }
        try writer.finish()
        return writer
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The command could not be started: `status` is 127 (not found) or 126.
public struct LaunchError: Error, CustomStringConvertible {
    public let command: String
    public let status: Int32
    public let reason: String
    public var description: String { "\(command): \(reason)" }
}

public let gtraceVersion = "0.1.0"

/// CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds.
enum Clocks {
    /// A raw timestamp and the CLOCK_MONOTONIC time read between two of them
    /// (the midpoint pairs them best), for the clock fit.
    /// A (timestamp, CLOCK_MONOTONIC) pair: the timestamp is the midpoint of
    /// two around the clock read. With `tries` > 1, the pair of the narrowest
    /// of that many back-to-back reads (one not interrupted in between).
    static func timestampPair(tries: Int = 1) -> (tsc: UInt64, monotonic: UInt64) {
        var best: (tsc: UInt64, monotonic: UInt64, width: UInt64) = (0, 0, .max)
        for _ in 0..<max(tries, 1) {
            var mono = timespec()
            let before = gtrace_timestamp()
            clock_gettime(CLOCK_MONOTONIC, &mono)
            let after = gtrace_timestamp()
            let width = after &- before
            if width < best.width {
                best = (before + width / 2, UInt64(mono.tv_sec) * 1_000_000_000 + UInt64(mono.tv_nsec), width)
            }
        }
        return (best.tsc, best.monotonic)
    }

    static func now() -> (monotonic: UInt64, realtime: UInt64) {
        var mono = timespec(), real = timespec()
        clock_gettime(CLOCK_MONOTONIC, &mono)
        clock_gettime(CLOCK_REALTIME, &real)
        return (UInt64(mono.tv_sec) * 1_000_000_000 + UInt64(mono.tv_nsec),
                UInt64(real.tv_sec) * 1_000_000_000 + UInt64(real.tv_nsec))
    }
}
