import CGtraceFormat
import Foundation
import GtraceFormat

/// What the launcher itself knows about the run, independent of the runtime.
struct LaunchFacts {
    var command: [String]
    var rootPid: Int32
    /// Root's wait status decoded: exit code, or the signal that killed it.
    var rootExitCode: Int32?
    var rootSignal: Int32?
    var epochMonotonic: UInt64
    var epochRealtime: UInt64
    var endMonotonic: UInt64
    var clockPairs: [(tsc: UInt64, monotonic: UInt64)]
    /// The tree's CPU time from the recorder's rusage of its reaped children (nil: recovered, unknown).
    var treeUserNanoseconds: UInt64?
    var treeSystemNanoseconds: UInt64?
    var info: [(String, String)]
    /// Wait statuses the recorder itself collected (command and orphans).
    var reapedStatus: [Int32: Int32] = [:]
    /// Scheduling from perf, when perf was allowed.
    var perf: PerfData?
    /// Why there is no perf data (nil when there is).
    var perfRefusal: String?
}

/// Turns a session's raw records into trace tables and time-ordered event
/// blocks: a scan of every record (SessionScan), then processes, threads,
/// locks and GILs in that order, then the events of each thread.
struct TraceBuilder {
    let session: SessionContents
    let facts: LaunchFacts
    var tables = TraceTables()
    var blocks: [EncodedBlock] = []
    var warnings: [String] = []
    /// Events the runtime could not record, by cause: kept in the trace for the report.
    var loss = RuntimeLoss()
    /// Objects whose addresses could not be named: kept in the trace for the report.
    var symbolWarnings: [String] = []
    /// Time spent naming locks and call sites (reading ELF files).
    var symbolNanoseconds: UInt64 = 0
    /// Objects the symbolizer read.
    var symbolObjectsRead = 0
    var symbolObjectsCached = 0
    /// Threads the merge of a large session may use (see encodeEvents).
    var mergeThreads = TraceBuilder.mergeThreadsFromEnvironment
    let fit: ClockFit
    /// The one pass over every record, made by init (it finds the clock pairs).
    private let scan: SessionScan

    struct LockKey: Hashable {
        var process: Int
        var address: UInt64
    }

    // Filled step by step by build().
    var imageKeys: [SessionContents.ImageKey] = []
    var processIndex: [SessionContents.ImageKey: Int] = [:]
    var threadIndex: [ThreadKey: Int] = [:]
    var threadsByTid = ThreadsByTid()
    /// The part of the buffer set-up spent ready to run (BufferSetupWaits); nil without perf.
    private var bufferSetupRunnable: UInt64?
    /// Each perf thread's switches, split among the trace threads with its tid (TraceBuilder+Scheduling).
    var switchesByThread: [Int: [PerfData.Switch]] = [:]
    private(set) var lockIndex: [LockKey: Int] = [:]
    /// Index in `tables.pythonCodes` of each code object, per image.
    var pythonCodeIndex: [SessionContents.ImageKey: [PythonCodeKey: Int]] = [:]
    /// Python locks' first locations and their waits' call sites (encodeEvents).
    var pythonLocks = PythonLockSites()
    private var stringID: [String: Int] = [:]

    /// `live`: the scans of completed chunks the recorder made while the command ran.
    init(session: SessionContents, facts: LaunchFacts, live: [ThreadKey: LiveScan.Part] = [:]) {
        self.session = session
        self.facts = facts
        var scan = SessionScan(session: session, threads: mergeThreads, live: live)
        var liveScanDiffers = false
        if !live.isEmpty, getenv("GTRACE_CHECK_LIVE_SCAN") != nil {
            // The check the tests make: the live-assisted scan against a full one.
            let full = SessionScan(session: session, threads: mergeThreads)
            if full.fingerprint != scan.fingerprint {
                liveScanDiffers = true
                scan = full
            }
        }
        fit = ClockFit(pairs: facts.clockPairs + scan.clockPairs, timestampsAreTSC: GTRACE_TIMESTAMP_IS_TSC != 0)
        warnings = session.warnings
        if liveScanDiffers { warnings.append("the live scan differs from a full scan of the session (GTRACE_CHECK_LIVE_SCAN); the full scan is used") }
        scan.resolveTimes(ThreadClock(fit: fit, epoch: facts.epochMonotonic))
        self.scan = scan
    }

    /// Trace time (ns since `epoch`, 0 before it) of a CLOCK_MONOTONIC time.
    static func traceTime(_ monotonic: UInt64, epoch: UInt64) -> UInt64 {
        monotonic > epoch ? monotonic - epoch : 0
    }

    /// Trace time (ns since the epoch) of a raw timestamp.
    func time(_ tsc: UInt64) -> UInt64 {
        Self.traceTime(fit.monotonic(tsc), epoch: facts.epochMonotonic)
    }

    /// Converts one thread's raw timestamps, as `time(_:)` does, faster (ClockFit.Cursor).
    struct ThreadClock {
        private var cursor: ClockFit.Cursor
        private let epoch: UInt64
        init(fit: ClockFit, epoch: UInt64) {
            cursor = ClockFit.Cursor(fit)
            self.epoch = epoch
        }
        mutating func time(_ tsc: UInt64) -> UInt64 {
            TraceBuilder.traceTime(cursor.monotonic(tsc), epoch: epoch)
        }
    }

    var threadClock: ThreadClock { ThreadClock(fit: fit, epoch: facts.epochMonotonic) }

    /// Trace time of a CLOCK_MONOTONIC time (perf's clock).
    func time(monotonic: UInt64) -> UInt64 {
        Self.traceTime(monotonic, epoch: facts.epochMonotonic)
    }

    var endTime: UInt64 { time(monotonic: facts.endMonotonic) }

    mutating func build() {
        var scan = self.scan
        warnings += scan.loss.causes
        loss = scan.loss
        buildProcesses(scan)
        addUninstrumentedProcesses()
        applyWaitStatuses(scan)
        applyPerfBirths()
        orderParentsFirst()
        buildThreads(scan)
        assignSwitchesToThreads()
        buildLocks(&scan)
        buildGILs(scan)
        buildPythonCodes(scan)
        bufferSetupRunnable = bufferSetupRunnableNanoseconds()  // before the conversion drops the chunks' pages
        let sites = encodeEvents(scan)
        let symbolsStart = DispatchTime.now().uptimeNanoseconds
        buildSymbols(sites)
        buildPythonLockNames()
        buildFileLockNames()
        symbolNanoseconds = DispatchTime.now().uptimeNanoseconds - symbolsStart
        buildRunTables()
    }

    mutating func intern(_ s: String) -> Int {
        if let id = stringID[s] { return id }
        stringID[s] = tables.strings.count
        tables.strings.append(s)
        return tables.strings.count - 1
    }

    /// Processes in start order, each linked to its parent; ends from exit
    /// records, the next exec, or the recorder's wait status for the root.
    private mutating func buildProcesses(_ scan: SessionScan) {
        var imageFirstEvent: [SessionContents.ImageKey: UInt64] = [:]
        var imageLastEvent: [SessionContents.ImageKey: UInt64] = [:]
        for (key, time) in scan.firstEvent { imageFirstEvent[key.image] = min(imageFirstEvent[key.image] ?? time, time) }
        for (key, time) in scan.lastEvent { imageLastEvent[key.image] = max(imageLastEvent[key.image] ?? time, time) }
        var imageStartTime: [SessionContents.ImageKey: UInt64] = [:]
        for key in session.images.keys {
            imageStartTime[key] = scan.imageStart[key] ?? session.images[key]?.startTSC.map { time($0) } ?? imageFirstEvent[key] ?? 0
        }
        func startOf(_ key: SessionContents.ImageKey) -> UInt64 { imageStartTime[key] ?? 0 }
        imageKeys = session.images.keys.sorted { (startOf($0), $0) < (startOf($1), $1) }
        var latestImageOfPid: [Int32: Int] = [:]  // process index of the latest image seen so far
        for key in imageKeys {
            guard let image = session.images[key] else { continue }
            let index = tables.processes.count
            processIndex[key] = index
            // Parent: the previous image of this pid (after exec), else the latest image of the parent pid.
            let parent = latestImageOfPid[key.pid] ?? latestImageOfPid[image.ppid]
            latestImageOfPid[key.pid] = index
            var process = GtraceFormat.ProcessInfo(
                index: index, pid: key.pid, ppid: image.ppid, parent: parent, image: key.image,
                executable: image.executable, arguments: image.arguments, startNanoseconds: startOf(key),
                endNanoseconds: nil, exitKind: .unknown, exitStatus: 0, userCPUNanoseconds: 0, systemCPUNanoseconds: 0)
            if let exit = scan.imageExit[key] {
                process.endNanoseconds = time(exit.tsc)
                process.exitKind = ExitKind(rawValue: UInt8(truncatingIfNeeded: exit.flags)) ?? .unknown
                process.exitStatus = Int32(bitPattern: exit.u32)
                process.userCPUNanoseconds = exit.addr
                process.systemCPUNanoseconds = exit.arg
            }
            tables.processes.append(process)
        }
        // An image replaced by exec ends when the next image of its pid starts.
        var nextImage: [SessionContents.ImageKey: Int] = [:]
        for (i, process) in tables.processes.enumerated() where process.image > 0 {
            nextImage[SessionContents.ImageKey(pid: process.pid, image: process.image - 1)] = i
        }
        for (i, process) in tables.processes.enumerated() where process.endNanoseconds == nil {
            let key = SessionContents.ImageKey(pid: process.pid, image: process.image)
            if let next = nextImage[key] {
                tables.processes[i].endNanoseconds = tables.processes[next].startNanoseconds
                tables.processes[i].exitKind = .exec
            } else {
                tables.processes[i].endNanoseconds = process.pid == facts.rootPid ? endTime : (imageLastEvent[key] ?? endTime)
            }
        }
        // The root's wait status is the truth about how it ended.
        if let last = tables.processes.lastIndex(where: { $0.pid == facts.rootPid }) {
            if let signal = facts.rootSignal {
                tables.processes[last].exitKind = .signal
                tables.processes[last].exitStatus = signal
            } else if tables.processes[last].exitKind == .unknown, let code = facts.rootExitCode {
                tables.processes[last].exitKind = .waitStatus
                tables.processes[last].exitStatus = code
            }
        }
    }

    /// Threads in start order; the strings table gets every name used.
    private mutating func buildThreads(_ scan: SessionScan) {
        func startTime(_ key: ThreadKey) -> UInt64 { scan.threadStart[key]?.time ?? scan.firstEvent[key] ?? 0 }
        let threadKeys = session.threads.map(\.key)
            .sorted { (startTime($0), $0.image, $0.tid, $0.generation) < (startTime($1), $1.image, $1.tid, $1.generation) }
        for (i, key) in threadKeys.enumerated() {
            threadIndex[key] = i
            threadsByTid.add(key, start: startTime(key), index: i)
        }
        for (i, key) in threadKeys.enumerated() {
            guard let process = processIndex[key.image] else { continue }
            let names = scan.threadNames[key] ?? []
            for n in names { _ = intern(n.name) }
            let creator = scan.threadStart[key]?.creatorTid.flatMap { threadsByTid.index(image: key.image, tid: $0, at: startTime(key)) }
            var thread = ThreadInfo(index: i, process: process, tid: key.tid, name: names.last?.name ?? "",
                                    creator: creator, startNanoseconds: startTime(key), endNanoseconds: nil,
                                    endKind: .unknown, cpuNanoseconds: nil)
            if let end = scan.threadEnd[key] {
                thread.endNanoseconds = time(end.tsc)
                thread.endKind = ThreadEndKind(rawValue: UInt8(truncatingIfNeeded: end.flags)) ?? .unknown
                thread.cpuNanoseconds = end.arg
            } else {
                thread.endNanoseconds = tables.processes[process].endNanoseconds
            }
            tables.threads.append(thread)
        }
    }

    /// Locks per process in order of first use; each traced GIL is a lock of
    /// kind GIL at the address of its state.
    private mutating func buildLocks(_ scan: inout SessionScan) {
        for (key, first) in scan.firstGILEvent {
            guard scan.gilInfo[key] != nil else {
                warnings.append("process \(key.image.pid): GIL events without a GIL location; ignored")
                continue
            }
            scan.lockFirstSeen[key.image, default: [:]][key.address] = (first, .gil)
        }
        for key in imageKeys {
            guard let process = processIndex[key], let seen = scan.lockFirstSeen[key] else { continue }
            for (address, first) in seen.sorted(by: { ($0.value.time, $0.key) < ($1.value.time, $1.key) }) {
                lockIndex[LockKey(process: process, address: address)] = tables.locks.count
                tables.locks.append(LockInfo(index: tables.locks.count, process: process, address: address, kind: first.kind))
            }
        }
    }

    /// One GIL table entry per GIL found, with CPython's own counters.
    private mutating func buildGILs(_ scan: SessionScan) {
        for (key, info) in scan.gilInfo.sorted(by: { ($0.value.tsc, $0.key.address) < ($1.value.tsc, $1.key.address) }) {
            guard let process = processIndex[key.image] else { continue }
            let index = info.flags >> 8
            // CPython's counters for this GIL: the first reading with its index after it was found.
            func reading(_ list: [gtrace_raw_record]?) -> gtrace_raw_record? {
                (list ?? []).filter { $0.flags == index && $0.tsc >= info.tsc }.min { $0.tsc < $1.tsc }
                    ?? (list ?? []).filter { $0.flags == index }.max { $0.tsc < $1.tsc }
            }
            let stats = reading(scan.gilStats[key.image])
            let threadStates = index == 0 ? reading(scan.gilThreadStateCounts[key.image]) : nil  // main GIL only
            tables.gils.append(GILInfo(
                process: process, lock: lockIndex[LockKey(process: process, address: info.addr)],
                versionHex: info.u32, status: GILStatus(rawValue: UInt32(info.flags & 0xff)), address: info.addr,
                runtimeAddress: info.arg, switchNumber: stats?.addr, intervalMicroseconds: stats?.arg,
                inheritedSwitchNumber: index == 0 ? reading(scan.gilBaseline[key.image])?.addr : nil,
                sameThreadSwitches: threadStates?.addr, reusedThreadStates: threadStates?.arg))
        }
        tables.gils.sort { ($0.process, $0.lock ?? Int.max) < ($1.process, $1.lock ?? Int.max) }
    }

    /// Every thread's events, encoded into blocks as they are converted (memory
    /// holds compact blocks, not events), then ordered for writing. A large
    /// session uses a second thread: two converters over two halves of the
    /// threads (by records), or, when one thread holds most records, block
    /// encoding beside the conversion. The blocks are the same bytes in the
    /// same order either way (BlockCutterTests, MergeThreadsTests).
    private mutating func encodeEvents(_ scan: SessionScan) -> CallSiteCounter {
        var namesByTarget: [Int: [TraceEvent]] = [:]
        for (key, names) in scan.threadNames {
            guard let target = threadIndex[key] else { continue }
            namesByTarget[target] = names.map { TraceEvent(time: $0.time, thread: target, kind: .threadName(string: intern($0.name))) }
                .sorted { $0.time < $1.time }
        }
        let context = ConversionContext(lockIndex: lockIndex, threadIndex: threadIndex, threadsByTid: threadsByTid, processIndex: processIndex,
                                        pythonCodeIndex: pythonCodeIndex, pythonCodes: tables.pythonCodes, clock: threadClock,
                                        unordered: scan.unordered, namesByTarget: namesByTarget, switchesByThread: switchesByThread,
                                        epochMonotonic: facts.epochMonotonic, lockCount: tables.locks.count, threadCount: tables.threads.count)
        let large = mergeThreads > 1 && scan.recordsPerThread.reduce(0, +) >= BlockEncoder.secondThreadMinimumRecords
        var converter: ThreadConverter
        if large, let split = Self.halves(scan.recordsPerThread) {
            let later = ConversionJob(ThreadConverter(context: context, encoder: BlockEncoder(secondThread: false)), session.threads[split...])
            let work = BackgroundWork { [later] in later.run() }
            converter = ThreadConverter(context: context, encoder: BlockEncoder(secondThread: false))
            for thread in session.threads[..<split] { converter.convert(thread) }
            work.join()
            blocks = converter.encoder.finish() + later.converter.encoder.finish()
            converter.merge(later.converter)
        } else {
            converter = ThreadConverter(context: context, encoder: BlockEncoder(secondThread: large))
            for thread in session.threads { converter.convert(thread) }
            blocks = converter.encoder.finish()
        }
        // Threads known only from perf: their switches are all their events.
        var rest = ThreadConverter(context: context, encoder: BlockEncoder(secondThread: false))
        for thread in tables.threads where !converter.converted.contains(thread.index) { rest.convertSwitchesOnly(thread: thread.index) }
        blocks += rest.encoder.finish()
        blocks.sort(by: EncodedBlock.writeOrder)
        var sites = converter.sites
        sites.flush()
        self.pythonLocks = converter.pythonLocks
        return sites
    }

    /// Where to cut the threads (by their record counts) into two runs of
    /// similar size; nil when no cut leaves each side at most 60% of the records.
    static func halves(_ records: [Int]) -> Int? {
        let total = records.reduce(0, +)
        guard records.count >= 2, total > 0 else { return nil }
        var prefix = 0, best: (cut: Int, larger: Int)?
        for cut in 1..<records.count {
            prefix += records[cut - 1]
            let larger = max(prefix, total - prefix)
            if best == nil || larger < best!.larger { best = (cut, larger) }
        }
        guard let best, best.larger * 10 <= total * 6 else { return nil }
        return best.cut
    }

    /// Threads the merge may use: 2, or 1 with GTRACE_MERGE_THREADS=1 (a busy machine).
    static var mergeThreadsFromEnvironment: Int {
        getenv("GTRACE_MERGE_THREADS").map { String(cString: $0) } == "1" ? 1 : 2
    }

    /// The Python code objects defined in each image, in order of definition;
    /// code objects only sampled (never seen at a GIL event) get an entry
    /// without a name.
    private mutating func buildPythonCodes(_ scan: SessionScan) {
        for key in imageKeys {
            guard let process = processIndex[key] else { continue }
            let defined = scan.pythonCodes[key] ?? [:]
            var index: [PythonCodeKey: Int] = [:]
            for (code, d) in defined.sorted(by: { ($0.value.time, $0.key.address) < ($1.value.time, $1.key.address) }) {
                index[code] = tables.pythonCodes.count
                tables.pythonCodes.append(PythonCode(index: tables.pythonCodes.count, process: process, address: code.address,
                                                     qualifiedName: d.name, file: d.file, firstLine: d.firstLine))
            }
            for code in (scan.pythonReferences[key] ?? []).sorted(by: { ($0.address, $0.identity) < ($1.address, $1.identity) })
            where index[code] == nil {
                index[code] = tables.pythonCodes.count
                tables.pythonCodes.append(PythonCode(index: tables.pythonCodes.count, process: process, address: code.address,
                                                     qualifiedName: "code object 0x" + String(code.address, radix: 16), file: "",
                                                     firstLine: UInt32(truncatingIfNeeded: code.identity >> 32)))
            }
            if !index.isEmpty { pythonCodeIndex[key] = index }
        }
    }

    /// Python locks: named by the line that first acquired them (the GIL was
    /// held there), with the lines their waits came from. A 3.14+ PyMutex (a
    /// futex-style "waits only" word, pymutex.c) is named by the line its
    /// waiters waited at longest, "first waited for at" only without call
    /// sites; its call sites count waits only. Its creation and its end are not
    /// seen, so one address can be several objects one after another: in a
    /// `multiprocessing` Manager's server, a Condition's waiter lock waited on
    /// twice and freed, then at its address the user's lock, waited on 2336
    /// times at `managers.py:277 in Server.serve_client`, which the verdict
    /// named "first waited for at threading.py:369 in Condition.wait".
    private mutating func buildPythonLockNames() {
        for lock in tables.locks where lock.kind == .pythonLock || pythonLocks.pyMutexes.contains(lock.index) {
            let isPyMutex = lock.kind != .pythonLock
            let sites = (pythonLocks.totals[lock.index] ?? [:]).sorted {
                ($0.value.waitNanoseconds, $0.value.waits, $1.key) > ($1.value.waitNanoseconds, $1.value.waits, $0.key)
            }
            let name: String
            if isPyMutex {
                let waitedAt = sites.filter { $0.value.waits > 0 }
                let waited = waitedAt.first.map { "\(LockName.pyMutexPrefix) waited for \(waitedAt.count == 1 ? "" : "most ")at \($0.key)" }
                name = waited ?? pythonLocks.firstLocation[lock.index].map { "\(LockName.pyMutexPrefix) first waited for at \($0.site)" }
                    ?? LockName.pyMutexPrefix + " 0x" + String(lock.address, radix: 16)
            } else {
                let created = pythonLocks.creation(of: lock).map { "Python lock created at \($0)" }
                name = created ?? pythonLocks.firstLocation[lock.index].map { "Python lock first acquired at \($0.site)" }
                    ?? "Python lock 0x" + String(lock.address, radix: 16)
            }
            tables.lockNames.append(LockName(lock: lock.index, name: name))
            for (site, t) in sites.prefix(Self.callSitesPerLock) {
                tables.callSites.append(CallSite(lock: lock.index, site: site, acquisitions: isPyMutex ? 0 : t.acquisitions, waits: t.waits,
                                                 waitNanoseconds: t.waitNanoseconds))
            }
        }
    }

    /// A file lock is named by its file's path (filelocks.c), else by its device and inode.
    private mutating func buildFileLockNames() {
        for lock in tables.locks where lock.kind == .fileLock {
            let device = (lock.address >> 40) & 0xffff, inode = lock.address & 0xff_ffff_ffff
            let name = session.fileLockPaths[lock.address].map { "file lock on \($0)" } ?? "file lock on device \(device) inode \(inode)"
            tables.lockNames.append(LockName(lock: lock.index, name: name))
        }
    }

    /// Features, clock and run facts.
    private mutating func buildRunTables() {
        tables.features = UInt16(GTRACE_FEATURE_LOCKS.rawValue | GTRACE_FEATURE_THREAD_CPU.rawValue)
        tables.clock = ClockInfo(epochMonotonicNanoseconds: facts.epochMonotonic, epochRealtimeNanoseconds: facts.epochRealtime,
                                 ticksPerNanosecond: fit.ticksPerNanosecond, maxResidualNanoseconds: fit.maxResidualNanoseconds,
                                 recordingEndNanoseconds: endTime)
        var info: [(key: String, value: String)] = [("command", facts.command.joined(separator: " "))]
        info += facts.info.map { (key: $0.0, value: $0.1) }
        // The records the runtime wrote (every thread's), for the recording's cost.
        info.append(("runtime_records", "\(scan.recordsPerThread.reduce(0, +))"))
        if session.bufferChunks > 0, fit.ticksPerNanosecond > 0 {
            // The threads' time setting up their record buffers (docs/METRICS.md, "Recording cost").
            // Without the time ready to run and kept off a CPU by other threads (perf).
            let setup = UInt64(min(Double(session.bufferSetupTicks) / fit.ticksPerNanosecond, 9e18))
            let runnable = min(bufferSetupRunnable ?? 0, setup)
            info.append(("buffer_chunks", "\(session.bufferChunks)"))
            info.append(("buffer_arena_slots", "\(session.arenaSlots)"))
            info.append(("buffer_setup_ns", "\(setup - runnable)"))
            if bufferSetupRunnable != nil { info.append(("buffer_setup_runnable_ns", "\(runnable)")) }
        }
        if let user = facts.treeUserNanoseconds, let system = facts.treeSystemNanoseconds {
            info.append(("tree_user_ns", "\(user)"))
            info.append(("tree_system_ns", "\(system)"))
        }
        // The lines that made threading.Semaphores, the most first (Verdict+HeldPythonLock.swift);
        // a loop that makes one per task is one line.
        for (site, count) in pythonLocks.semaphores.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(32) {
            info.append(("python_semaphores", "\(count) \(site)"))
        }
        for warning in symbolWarnings { info.append(("warning", warning)) }
        for message in session.runtimeMessages { info.append(("warning", message)) }
        if loss.total > 0 {
            info.append(("lost_events", "\(loss.total)"))
            if let from = loss.from { info.append(("lost_events_from_ns", "\(from)")) }
            for cause in loss.causes { info.append(("lost_events_cause", cause)) }
        }
        if let perf = facts.perf {
            info.append(("scheduling", "perf"))
            if perf.lostRecords > 0 { info.append(("perf_lost_records", "\(perf.lostRecords)")) }
            for pid in perf.spinWaitObjects.keys.sorted() {
                for object in perf.spinWaitObjects[pid, default: []].sorted() { info.append(("spin_wait_runtime", "\(pid) \(object)")) }
            }
            if !perf.spinWaitObjects.isEmpty {
                // The command runs with the recorder's environment.
                let environment = ProcessInfo.processInfo.environment
                for name in SpinWaitRuntime.environmentNames {
                    if let value = environment[name] { info.append(("spin_wait_env", "\(name)=\(value)")) }
                }
            }
        } else {
            info.append(("scheduling", "wrappers"))
            info.append(("scheduling_note", facts.perfRefusal ?? "perf not used"))
        }
        tables.info = RunInfo(values: info)
    }
}

/// Gathers the PY_FRAME records that follow a GIL event, a Python lock's
/// acquisition or a PY_SAMPLE into one event.
struct PythonFrameCollector {
    enum Anchor { case gilAcquire, gilRelease, sample(Int), lock(Int), lockNew(UInt64) }
    private var anchorTime: UInt64?
    private var anchor = Anchor.gilAcquire
    private var frames = PythonStack()
    /// The innermost frame at this thread's last GIL release: where it asks for locks and the GIL.
    private(set) var lastRelease: PythonFrame?

    mutating func begin(at time: UInt64, anchor: Anchor) {
        anchorTime = time
        self.anchor = anchor
        frames = PythonStack()
    }

    mutating func frame(_ r: gtrace_raw_record, code: Int?) {
        guard anchorTime != nil else { return }
        frames.append(PythonFrame(code: code, line: r.u32))
    }

    /// The event of the frames gathered (a sample or a lock acquisition with
    /// none is dropped; a GIL event with none keeps an empty location: no Python frame).
    mutating func flush(thread: Int, pythonLocks: inout PythonLockSites, codes: [PythonCode]) -> TraceEvent? {
        guard let time = anchorTime else { return nil }
        defer { anchorTime = nil; frames = PythonStack() }
        switch anchor {
        case let .sample(gil):
            return frames.isEmpty ? nil : TraceEvent(time: time, thread: thread, kind: .pythonSample(lock: gil, frames: frames))
        case let .lock(lock):
            guard let first = frames.first else { return nil }
            pythonLocks.located(lock: lock, at: time, frame: first, codes: codes)
            return TraceEvent(time: time, thread: thread, kind: .pythonLocation(frames: frames))
        case let .lockNew(address):
            if !frames.isEmpty { pythonLocks.created(address: address, at: time, frames: frames, codes: codes) }
            return nil
        case .gilRelease:
            lastRelease = frames.first
            return TraceEvent(time: time, thread: thread, kind: .pythonLocation(frames: frames))
        case .gilAcquire:
            return TraceEvent(time: time, thread: thread, kind: .pythonLocation(frames: frames))
        }
    }
}

/// Names Python locks by the line that first acquired them, and totals their
/// waits by the Python line the waiting thread was at.
struct PythonLockSites {
    typealias Totals = CallSiteCounter.Totals
    private(set) var firstLocation: [Int: (time: UInt64, site: String)] = [:]
    /// `firstLocation`'s times by lock (.max: none), read before it.
    private var locatedAt: [UInt64] = []
    /// Where locks were created at each address, and each lock's first wait.
    private(set) var creations: [UInt64: [(time: UInt64, site: String)]] = [:]
    private(set) var firstWait: [Int: UInt64] = [:]
    private(set) var totals: [Int: [String: Totals]] = [:]
    private var pending: [Int: [Int: (time: UInt64, site: String)]] = [:]  // thread → lock → wait
    /// Site names already made: a queue.Queue creates a waiter lock per blocking
    /// get, so the same few lines are named hundreds of thousands of times.
    private var siteNames: [SiteKey: String] = [:]

    private struct SiteKey: Hashable {
        var code: Int
        var line: UInt32
    }

    /// Adds what a collector of later threads found: sums and unions, this
    /// collector's entries first where order decides (first locations, creations).
    mutating func merge(_ later: PythonLockSites) {
        for (lock, location) in later.firstLocation {
            if let old = firstLocation[lock], old.time <= location.time { continue }
            firstLocation[lock] = location
        }
        locatedAt = []
        for (lock, location) in firstLocation { noteLocated(lock, at: location.time) }
        for (address, list) in later.creations { creations[address, default: []] += list }
        for (site, count) in later.semaphores { semaphores[site, default: 0] += count }
        for (lock, time) in later.firstWait { firstWait[lock] = min(firstWait[lock] ?? time, time) }
        for (lock, interval) in later.longest.enumerated() { noteInterval(lock: lock, start: interval.start, end: interval.start + interval.length) }
        for (lock, sites) in later.totals {
            for (site, t) in sites { totals[lock, default: [:]][site, default: Totals()].add(t) }
        }
        pyMutexes.formUnion(later.pyMutexes)
    }

    /// "app.py:42 in worker".
    mutating func site(_ f: PythonFrame, codes: [PythonCode]) -> String {
        let key = SiteKey(code: f.code ?? -1, line: f.line)
        if let known = siteNames[key] { return known }
        let name: String
        if let index = f.code, codes.indices.contains(index) {
            name = codes[index].site(line: f.line)
        } else {
            name = "(unknown code)"
        }
        siteNames[key] = name
        return name
    }

    mutating func created(address: UInt64, at time: UInt64, frames: PythonStack, codes: [PythonCode]) {
        let site = creationSite(frames, codes: codes)
        creations[address, default: []].append((time, site))
        if let made = semaphoreMadeOutsideTheStandardLibrary(frames, codes: codes) {
            semaphores[self.site(made, codes: codes), default: 0] += 1
        }
    }

    /// Per line outside the standard library, the `threading.Semaphore`s (or
    /// `BoundedSemaphore`s) made there. Who holds a semaphore leaves no record (a
    /// counter under a Condition's lock, held a moment at a time), so the report can
    /// only say that the program has one (Verdict+HeldPythonLock.swift).
    private(set) var semaphores: [String: Int] = [:]

    /// The frame that made a semaphore: the lock made in `Semaphore.__init__`
    /// (threading.py), whose first caller outside threading.py is not in the standard
    /// library (threading.py's directory, `site-packages` aside), e.g. not the idle
    /// semaphore of every `ThreadPoolExecutor`.
    mutating func semaphoreMadeOutsideTheStandardLibrary(_ frames: PythonStack, codes: [PythonCode]) -> PythonFrame? {
        func code(_ f: PythonFrame) -> PythonCode? { f.code.flatMap { codes.indices.contains($0) ? codes[$0] : nil } }
        guard let inner = frames.first.flatMap(code), inner.file.hasSuffix("/threading.py"), isSemaphoreInit(inner) else { return nil }
        let library = String(inner.file.dropLast("threading.py".count))
        guard let caller = frames.first(where: { code($0).map { !$0.file.hasSuffix("/threading.py") } ?? false }),
              let file = code(caller)?.file else { return nil }
        let standard = file.hasPrefix(library) && !file.contains("/site-packages/") && !file.contains("/dist-packages/")
        return standard || file.hasPrefix("<") ? nil : caller
    }

    /// Per threading.py, the first line of `Semaphore.__init__` (nil: not found).
    private var semaphoreInitLines: [String: UInt32?] = [:]

    /// `Semaphore.__init__`: by its qualified name from CPython 3.11; before, a code
    /// object has only its name ("__init__", as Event's and Condition's), so by its
    /// first line in the threading.py the interpreter ran, read once.
    private mutating func isSemaphoreInit(_ code: PythonCode) -> Bool {
        if code.qualifiedName == "Semaphore.__init__" { return true }
        guard code.qualifiedName == "__init__" else { return false }
        if semaphoreInitLines[code.file] == nil {
            semaphoreInitLines[code.file] = Self.semaphoreInitLine(inSource: (try? String(contentsOfFile: code.file, encoding: .utf8)) ?? "")
        }
        return semaphoreInitLines[code.file] == code.firstLine
    }

    /// The line of the first `def __init__` in `class Semaphore` of threading.py's source.
    static func semaphoreInitLine(inSource source: String) -> UInt32? {
        var inSemaphore = false
        for (number, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("class ") { inSemaphore = line.hasPrefix("class Semaphore") }
            if inSemaphore, line.trimmingCharacters(in: .whitespaces).hasPrefix("def __init__") { return UInt32(number + 1) }
        }
        return nil
    }

    /// Where a lock was made. One made inside `threading` (`RLock()`, `Condition()`,
    /// `Event()`, a Condition's waiter lock) is named by the first line outside it that
    /// the recorded frames reach: "__init__.py:906 in Handler.createLock (via
    /// threading.py:101 in RLock)", not every logging handler's "threading.py:101 in RLock".
    mutating func creationSite(_ frames: PythonStack, codes: [PythonCode]) -> String {
        let inner = site(frames[frames.startIndex], codes: codes)
        func inThreading(_ f: PythonFrame) -> Bool {
            guard let index = f.code, codes.indices.contains(index) else { return false }
            return codes[index].file.hasSuffix("/threading.py")
        }
        guard inThreading(frames[frames.startIndex]), let caller = frames.first(where: { !inThreading($0) }),
              let code = caller.code, codes.indices.contains(code), !codes[code].file.hasPrefix("<")
        else { return inner }  // not "<frozen importlib._bootstrap>": threading's import made the main thread's lock
        return "\(site(caller, codes: codes)) (via \(inner))"
    }

    /// "created at app.py:2 in <module>": an address is reused by the locks
    /// created there one after another (all one lock in the trace), so the
    /// creation last before the lock's longest hold or wait, else before its
    /// first wait, else its first creation; nil when unknown.
    /// When locks created at other lines used the address too, the name says so.
    func creation(of lock: LockInfo) -> String? {
        let list = (creations[lock.address] ?? []).sorted { $0.time < $1.time }
        guard let first = list.first else { return nil }
        var site = first.site
        if lock.index < longest.count, longest[lock.index].length > 0,
           let last = list.last(where: { $0.time <= longest[lock.index].start }) {
            site = last.site
        } else if let wait = firstWait[lock.index], let last = list.last(where: { $0.time <= wait }) {
            site = last.site
        }
        let others = Set(list.map(\.site)).count - 1
        return others == 0 ? site : "\(site) (+\(others) other line\(others == 1 ? "" : "s") reusing its address)"
    }

    /// Per lock: the longest hold or wait seen on one thread (a hold released
    /// by another thread is not seen here), as (start, length).
    private(set) var longest: [(start: UInt64, length: UInt64)] = []
    /// Per lock: the thread that acquired it last and when (a later acquisition
    /// replaces it, so a hold released by another thread leaves nothing stale).
    private var lastAcquired: [(thread: Int, time: UInt64)] = []

    private mutating func noteInterval(lock: Int, start: UInt64, end: UInt64) {
        guard lock >= 0, end > start else { return }
        if lock >= longest.count { longest += Array(repeating: (0, 0), count: lock + 1 - longest.count) }
        let old = longest[lock]
        if end - start > old.length || (end - start == old.length && start < old.start) { longest[lock] = (start, end - start) }
    }

    /// An acquisition of `lock`, or its release: a hold when the same thread acquired it last.
    private mutating func noteHold(_ r: gtrace_raw_record, lock: Int, thread: Int, at time: UInt64) {
        guard lock >= 0 else { return }
        if lock >= lastAcquired.count { lastAcquired += Array(repeating: (-1, 0), count: lock + 1 - lastAcquired.count) }
        if r.kind != UInt16(GTRACE_RAW_LOCK_RELEASE.rawValue) {
            lastAcquired[lock] = (thread, time)
        } else if lastAcquired[lock].thread == thread {
            noteInterval(lock: lock, start: lastAcquired[lock].time, end: time)
            lastAcquired[lock].thread = -1
        }
    }

    mutating func located(lock: Int, at time: UInt64, frame: PythonFrame, codes: [PythonCode]) {
        if lock >= 0, lock < locatedAt.count, locatedAt[lock] <= time { return }  // no hashing per acquisition
        if let old = firstLocation[lock], old.time <= time { return }
        firstLocation[lock] = (time, site(frame, codes: codes))
        noteLocated(lock, at: time)
    }

    private mutating func noteLocated(_ lock: Int, at time: UInt64) {
        guard lock >= 0 else { return }
        if lock >= locatedAt.count { locatedAt += Array(repeating: .max, count: lock + 1 - locatedAt.count) }
        locatedAt[lock] = time
    }

    /// CPython 3.14+ PyMutexes (futex-style records flagged GTRACE_FUTEX_PYMUTEX).
    private(set) var pyMutexes: Set<Int> = []

    /// A PyMutex wait began or returned: named by the first wait's line, totalled by line.
    mutating func pyMutex(_ r: gtrace_raw_record, lock: Int, thread: Int, at time: UInt64, frame: PythonFrame?, codes: [PythonCode]) {
        pyMutexes.insert(lock)
        if r.kind == UInt16(GTRACE_RAW_FUTEX_WAIT.rawValue), let frame { located(lock: lock, at: time, frame: frame, codes: codes) }
        record(r, lock: lock, thread: thread, at: time, frame: frame, codes: codes)
    }

    /// `frame`: the waiting thread's innermost frame at its last GIL release.
    mutating func record(_ r: gtrace_raw_record, lock: Int, thread: Int, at time: UInt64, frame: PythonFrame?, codes: [PythonCode]) {
        switch UInt32(r.kind) {
        case GTRACE_RAW_LOCK_ACQUIRE.rawValue, GTRACE_RAW_LOCK_RELEASE.rawValue:
            noteHold(r, lock: lock, thread: thread, at: time)
        case GTRACE_RAW_LOCK_WAIT.rawValue, GTRACE_RAW_FUTEX_WAIT.rawValue:
            let here = frame.map { site($0, codes: codes) } ?? "(no Python line)"
            pending[thread, default: [:]][lock] = (time, here)
            firstWait[lock] = min(firstWait[lock] ?? time, time)
        case GTRACE_RAW_LOCK_ACQUIRED.rawValue, GTRACE_RAW_LOCK_FAILED.rawValue, GTRACE_RAW_FUTEX_WOKE.rawValue:
            if r.kind == UInt16(GTRACE_RAW_LOCK_ACQUIRED.rawValue) { noteHold(r, lock: lock, thread: thread, at: time) }
            guard let wait = pending[thread]?.removeValue(forKey: lock) else { return }
            noteInterval(lock: lock, start: wait.time, end: time)
            var t = totals[lock, default: [:]][wait.site, default: Totals()]
            t.waits += 1
            t.waitNanoseconds += time > wait.time ? time - wait.time : 0
            if r.kind == UInt16(GTRACE_RAW_LOCK_ACQUIRED.rawValue) || (r.kind == UInt16(GTRACE_RAW_FUTEX_WOKE.rawValue) && r.u32 == 0) {
                t.acquisitions += 1
            }
            totals[lock, default: [:]][wait.site] = t
        default:
            break
        }
    }
}

/// The later half of a merge's threads, converted on the second thread.
final class ConversionJob: @unchecked Sendable {
    private(set) var converter: ThreadConverter
    private let threads: ArraySlice<SessionContents.ThreadRecords>

    init(_ converter: ThreadConverter, _ threads: ArraySlice<SessionContents.ThreadRecords>) {
        self.converter = converter
        self.threads = threads
    }

    func run() {
        for thread in threads { converter.convert(thread) }
    }
}
