import CGtraceFormat
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
    var treeUserNanoseconds: UInt64
    var treeSystemNanoseconds: UInt64
    var info: [(String, String)]
}

/// Turns a session's raw records into trace tables and time-ordered event blocks.
struct TraceBuilder {
    let session: SessionContents
    let facts: LaunchFacts
    private(set) var tables = TraceTables()
    private(set) var blocks: [EncodedBlock] = []
    private(set) var warnings: [String] = []
    private var fit: ClockFit

    /// Thread identity inside the session.
    private struct ThreadKey: Hashable {
        var image: SessionContents.ImageKey
        var tid: Int32
    }

    /// One GIL: the main interpreter's or a subinterpreter's, by its address.
    private struct GILKey: Hashable {
        var image: SessionContents.ImageKey
        var address: UInt64
    }

    private struct LockKey: Hashable {
        var process: Int
        var address: UInt64
    }

    init(session: SessionContents, facts: LaunchFacts) {
        self.session = session
        self.facts = facts
        var pairs = facts.clockPairs
        for thread in session.threads {
            thread.forEach { r in
                if r.kind == UInt16(GTRACE_RAW_CLOCK_SYNC.rawValue) { pairs.append((r.tsc, r.addr)) }
            }
        }
        fit = ClockFit(pairs: pairs, timestampsAreTSC: GTRACE_TIMESTAMP_IS_TSC != 0)
        warnings = session.warnings
    }

    private func time(_ tsc: UInt64) -> UInt64 {
        let mono = fit.monotonic(tsc)
        return mono > facts.epochMonotonic ? mono - facts.epochMonotonic : 0
    }

    private static func name(from r: gtrace_raw_record) -> String {
        var bytes: [UInt8] = []
        for word in [r.addr, r.arg] {
            for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(i)))) }
        }
        if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func build() {
        let endTime = facts.endMonotonic > facts.epochMonotonic ? facts.endMonotonic - facts.epochMonotonic : 0
        // Pass 1: process images, threads, names, locks.
        var imageStart: [SessionContents.ImageKey: UInt64] = [:]
        var imageExit: [SessionContents.ImageKey: gtrace_raw_record] = [:]
        var imageExec: [SessionContents.ImageKey: UInt64] = [:]
        var threadStart: [ThreadKey: (time: UInt64, creatorTid: Int32?)] = [:]
        var threadEnd: [ThreadKey: gtrace_raw_record] = [:]
        var threadNames: [ThreadKey: [(time: UInt64, name: String)]] = [:]
        var lockFirstSeen: [SessionContents.ImageKey: [UInt64: (time: UInt64, kind: LockKind)]] = [:]
        // GILs: GIL_INFO per (image, address); CPython's counters per (image, GIL index).
        var gilInfo: [GILKey: gtrace_raw_record] = [:]
        var gilStats: [SessionContents.ImageKey: [gtrace_raw_record]] = [:]     // at exit / GIL destruction
        var gilBaseline: [SessionContents.ImageKey: [gtrace_raw_record]] = [:]  // inherited by a fork child
        var firstGILEvent: [GILKey: UInt64] = [:]
        var firstEvent: [ThreadKey: UInt64] = [:]
        var lastEvent: [ThreadKey: UInt64] = [:]
        var lostTotal: UInt64 = 0

        for thread in session.threads {
            let key = ThreadKey(image: thread.image, tid: thread.tid)
            lostTotal += thread.lost
            var first = UInt64.max, last: UInt64 = 0
            defer {
                if first != .max {
                    firstEvent[key] = first
                    lastEvent[key] = last
                }
            }
            thread.forEach { r in
                let t = time(r.tsc)
                first = min(first, t)
                last = max(last, t)
                switch UInt32(r.kind) {
                case GTRACE_RAW_PROCESS_START.rawValue:
                    imageStart[thread.image] = min(imageStart[thread.image] ?? t, t)
                case GTRACE_RAW_PROCESS_EXIT.rawValue:
                    if imageExit[thread.image] == nil { imageExit[thread.image] = r }
                case GTRACE_RAW_EXEC.rawValue:
                    imageExec[thread.image] = max(imageExec[thread.image] ?? t, t)
                case GTRACE_RAW_THREAD_START.rawValue:
                    threadStart[key] = (t, r.u32 == 0 ? nil : Int32(bitPattern: r.u32))
                case GTRACE_RAW_THREAD_END.rawValue:
                    if threadEnd[key] == nil { threadEnd[key] = r }
                case GTRACE_RAW_THREAD_NAME.rawValue:
                    let target = ThreadKey(image: thread.image, tid: r.u32 == 0 ? thread.tid : Int32(bitPattern: r.u32))
                    threadNames[target, default: []].append((t, Self.name(from: r)))
                case GTRACE_RAW_LOCK_ACQUIRE.rawValue ... GTRACE_RAW_LOCK_TRY_FAILED.rawValue:
                    let kind: LockKind = (r.flags & UInt16(GTRACE_LOCKF_RWLOCK.rawValue)) != 0 ? .rwlock : .mutex
                    if lockFirstSeen[thread.image]?[r.addr] == nil { lockFirstSeen[thread.image, default: [:]][r.addr] = (t, kind) }
                case GTRACE_RAW_GIL_INFO.rawValue:
                    let key = GILKey(image: thread.image, address: r.addr)
                    if gilInfo[key].map({ $0.tsc <= r.tsc }) ?? true { gilInfo[key] = r }
                case GTRACE_RAW_GIL_STATS.rawValue where r.u32 == 1:
                    gilBaseline[thread.image, default: []].append(r)
                case GTRACE_RAW_GIL_STATS.rawValue:
                    gilStats[thread.image, default: []].append(r)
                case GTRACE_RAW_GIL_WAIT.rawValue ... GTRACE_RAW_GIL_RELEASE.rawValue:
                    let key = GILKey(image: thread.image, address: r.addr)
                    firstGILEvent[key] = min(firstGILEvent[key] ?? t, t)
                case GTRACE_RAW_COND_WAIT.rawValue, GTRACE_RAW_COND_WOKE.rawValue:
                    if lockFirstSeen[thread.image]?[r.addr] == nil { lockFirstSeen[thread.image, default: [:]][r.addr] = (t, .condition) }
                    if lockFirstSeen[thread.image]?[r.arg] == nil { lockFirstSeen[thread.image, default: [:]][r.arg] = (t, .mutex) }
                default:
                    break
                }
            }
        }
        if lostTotal > 0 {
            warnings.append("\(lostTotal) events were dropped by the runtime (a signal handler recorded during a buffer switch)")
        }

        // Processes, in start order.
        var imageFirstEvent: [SessionContents.ImageKey: UInt64] = [:]
        var imageLastEvent: [SessionContents.ImageKey: UInt64] = [:]
        for (key, time) in firstEvent { imageFirstEvent[key.image] = min(imageFirstEvent[key.image] ?? time, time) }
        for (key, time) in lastEvent { imageLastEvent[key.image] = max(imageLastEvent[key.image] ?? time, time) }
        var imageStartTime: [SessionContents.ImageKey: UInt64] = [:]
        for key in session.images.keys {
            imageStartTime[key] = imageStart[key] ?? session.images[key]?.startTSC.map(time) ?? imageFirstEvent[key] ?? 0
        }
        func startOf(_ key: SessionContents.ImageKey) -> UInt64 { imageStartTime[key] ?? 0 }
        let imageKeys = session.images.keys.sorted { (startOf($0), $0) < (startOf($1), $1) }
        var processIndex: [SessionContents.ImageKey: Int] = [:]
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
            if let exit = imageExit[key] {
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

        // Threads, in start order; the names table gets every name used.
        func threadStartTime(_ key: ThreadKey) -> UInt64 { threadStart[key]?.time ?? firstEvent[key] ?? 0 }
        let threadKeys = session.threads.map { ThreadKey(image: $0.image, tid: $0.tid) }
            .sorted { (threadStartTime($0), $0.image, $0.tid) < (threadStartTime($1), $1.image, $1.tid) }
        var threadIndex: [ThreadKey: Int] = [:]
        for (i, key) in threadKeys.enumerated() { threadIndex[key] = i }
        var stringID: [String: Int] = [:]
        func intern(_ s: String) -> Int {
            if let id = stringID[s] { return id }
            stringID[s] = tables.strings.count
            tables.strings.append(s)
            return tables.strings.count - 1
        }
        for (i, key) in threadKeys.enumerated() {
            guard let process = processIndex[key.image] else { continue }
            let names = threadNames[key] ?? []
            for n in names { _ = intern(n.name) }
            let creator = threadStart[key]?.creatorTid.flatMap { threadIndex[ThreadKey(image: key.image, tid: $0)] }
            var thread = ThreadInfo(index: i, process: process, tid: key.tid, name: names.last?.name ?? "",
                                    creator: creator, startNanoseconds: threadStartTime(key), endNanoseconds: nil,
                                    endKind: .unknown, cpuNanoseconds: nil)
            if let end = threadEnd[key] {
                thread.endNanoseconds = time(end.tsc)
                thread.endKind = ThreadEndKind(rawValue: UInt8(truncatingIfNeeded: end.flags)) ?? .unknown
                thread.cpuNanoseconds = end.arg
            } else {
                thread.endNanoseconds = tables.processes[process].endNanoseconds
            }
            tables.threads.append(thread)
        }

        // The GIL of each Python process is a lock of kind GIL at the address of its state.
        for (key, first) in firstGILEvent {
            guard gilInfo[key] != nil else {
                warnings.append("process \(key.image.pid): GIL events without a GIL location; ignored")
                continue
            }
            lockFirstSeen[key.image, default: [:]][key.address] = (first, .gil)
        }

        // Locks, per process in order of first use.
        var lockIndex: [LockKey: Int] = [:]
        for key in imageKeys {
            guard let process = processIndex[key], let seen = lockFirstSeen[key] else { continue }
            for (address, first) in seen.sorted(by: { ($0.value.time, $0.key) < ($1.value.time, $1.key) }) {
                lockIndex[LockKey(process: process, address: address)] = tables.locks.count
                tables.locks.append(LockInfo(index: tables.locks.count, process: process, address: address, kind: first.kind))
            }
        }

        for (key, info) in gilInfo.sorted(by: { ($0.value.tsc, $0.key.address) < ($1.value.tsc, $1.key.address) }) {
            guard let process = processIndex[key.image] else { continue }
            let index = info.flags >> 8
            // CPython's counters for this GIL: the last reading with its index at or after it was found.
            func reading(_ list: [gtrace_raw_record]?) -> gtrace_raw_record? {
                (list ?? []).filter { $0.flags == index && $0.tsc >= info.tsc }.min { $0.tsc < $1.tsc }
                    ?? (list ?? []).filter { $0.flags == index }.max { $0.tsc < $1.tsc }
            }
            let stats = reading(gilStats[key.image])
            tables.gils.append(GILInfo(
                process: process, lock: lockIndex[LockKey(process: process, address: info.addr)],
                versionHex: info.u32, status: GILStatus(rawValue: UInt32(info.flags & 0xff)), address: info.addr,
                runtimeAddress: info.arg, switchNumber: stats?.addr, intervalMicroseconds: stats?.arg,
                inheritedSwitchNumber: index == 0 ? reading(gilBaseline[key.image])?.addr : nil))
        }
        tables.gils.sort { ($0.process, $0.lock ?? Int.max) < ($1.process, $1.lock ?? Int.max) }

        // Pass 2: events per thread, encoded into blocks as they are converted,
        // so memory holds compact blocks rather than every event.
        var namesByTarget: [Int: [TraceEvent]] = [:]
        for (key, names) in threadNames {
            guard let target = threadIndex[key] else { continue }
            namesByTarget[target] = names.map { TraceEvent(time: $0.time, thread: target, kind: .threadName(string: intern($0.name))) }
                .sorted { $0.time < $1.time }
        }
        for thread in session.threads {
            let key = ThreadKey(image: thread.image, tid: thread.tid)
            guard let index = threadIndex[key], let process = processIndex[thread.image] else { continue }
            var cutter = BlockCutter(thread: index, interleaving: namesByTarget[index] ?? [])
            var lastAddress: UInt64 = 0
            var lastLock = -1
            func lock(_ address: UInt64) -> Int {
                if address != lastAddress || lastLock < 0 {
                    lastAddress = address
                    lastLock = lockIndex[LockKey(process: process, address: address)] ?? 0
                }
                return lastLock
            }
            var waitingForGIL: Set<Int> = []  // GIL locks this thread asked for
            func convert(_ r: gtrace_raw_record) {
                if (GTRACE_RAW_GIL_WAIT.rawValue ... GTRACE_RAW_GIL_RELEASE.rawValue).contains(UInt32(r.kind)) {
                    if let gil = lockIndex[LockKey(process: process, address: r.addr)],
                       let kind = Self.gilEventKind(r, lock: gil, waiting: &waitingForGIL) {
                        cutter.append(TraceEvent(time: time(r.tsc), thread: index, kind: kind))
                    }
                    return
                }
                guard let kind = Self.eventKind(r, lock: lock,
                                                thread: { threadIndex[ThreadKey(image: thread.image, tid: $0)] }) else { return }
                cutter.append(TraceEvent(time: time(r.tsc), thread: index, kind: kind))
            }
            if Self.isInTimeOrder(thread) {
                thread.forEach(convert)
            } else {
                // A signal handler's records can interleave: order by time, stably.
                var records: [gtrace_raw_record] = []
                thread.forEach { records.append($0) }
                let order = records.indices.sorted { (records[$0].tsc, $0) < (records[$1].tsc, $1) }
                for i in order { convert(records[i]) }
            }
            blocks += cutter.finish()
        }
        blocks.sort(by: EncodedBlock.writeOrder)

        tables.features = UInt16(GTRACE_FEATURE_LOCKS.rawValue | GTRACE_FEATURE_THREAD_CPU.rawValue)
        tables.clock = ClockInfo(epochMonotonicNanoseconds: facts.epochMonotonic, epochRealtimeNanoseconds: facts.epochRealtime,
                                 ticksPerNanosecond: fit.ticksPerNanosecond, maxResidualNanoseconds: fit.maxResidualNanoseconds,
                                 recordingEndNanoseconds: endTime)
        var info: [(key: String, value: String)] = [("command", facts.command.joined(separator: " "))]
        info += facts.info.map { (key: $0.0, value: $0.1) }
        info.append(("tree_user_ns", "\(facts.treeUserNanoseconds)"))
        info.append(("tree_system_ns", "\(facts.treeSystemNanoseconds)"))
        tables.info = RunInfo(values: info)
    }

    /// True when the thread's records (clock pairs aside) are already in time order.
    private static func isInTimeOrder(_ thread: SessionContents.ThreadRecords) -> Bool {
        var last: UInt64 = 0
        var ordered = true
        thread.forEach { r in
            guard ordered, r.kind != UInt16(GTRACE_RAW_CLOCK_SYNC.rawValue) else { return }
            if r.tsc < last { ordered = false }
            last = r.tsc
        }
        return ordered
    }

    /// The lock event a GIL record becomes: a wait, an acquisition (after a
    /// wait or not) or a release of the process's GIL lock; nil for other records.
    private static func gilEventKind(_ r: gtrace_raw_record, lock: Int, waiting: inout Set<Int>) -> EventKind? {
        switch UInt32(r.kind) {
        case GTRACE_RAW_GIL_WAIT.rawValue:
            waiting.insert(lock)
            return .lockWait(lock: lock, flags: [])
        case GTRACE_RAW_GIL_ACQUIRE.rawValue:
            return waiting.remove(lock) != nil ? .lockAcquired(lock: lock, flags: []) : .lockAcquire(lock: lock, flags: [])
        case GTRACE_RAW_GIL_RELEASE.rawValue:
            return .lockRelease(lock: lock, flags: [])
        default:
            return nil
        }
    }

    /// The event a raw record becomes; nil for records that live in the tables
    /// (clock pairs, names).
    private static func eventKind(_ r: gtrace_raw_record, lock: (UInt64) -> Int, thread: (Int32) -> Int?) -> EventKind? {
        let flags = LockFlags(rawValue: UInt8(truncatingIfNeeded: r.flags) & 0x7)
        switch UInt32(r.kind) {
        case GTRACE_RAW_PROCESS_START.rawValue: return .processStart
        case GTRACE_RAW_PROCESS_EXIT.rawValue:
            return .processExit(kind: ExitKind(rawValue: UInt8(truncatingIfNeeded: r.flags)) ?? .unknown,
                                status: Int32(bitPattern: r.u32))
        case GTRACE_RAW_THREAD_START.rawValue:
            return .threadStart(creator: r.u32 == 0 ? nil : thread(Int32(bitPattern: r.u32)))
        case GTRACE_RAW_THREAD_END.rawValue:
            return .threadEnd(kind: ThreadEndKind(rawValue: UInt8(truncatingIfNeeded: r.flags)) ?? .unknown, cpuNanoseconds: r.arg)
        case GTRACE_RAW_FORK.rawValue: return .fork(childPid: Int32(bitPattern: r.u32))
        case GTRACE_RAW_EXEC.rawValue: return .exec
        case GTRACE_RAW_LOCK_ACQUIRE.rawValue: return .lockAcquire(lock: lock(r.addr), flags: flags)
        case GTRACE_RAW_LOCK_WAIT.rawValue: return .lockWait(lock: lock(r.addr), flags: flags)
        case GTRACE_RAW_LOCK_ACQUIRED.rawValue: return .lockAcquired(lock: lock(r.addr), flags: flags)
        case GTRACE_RAW_LOCK_FAILED.rawValue:
            return .lockFailed(lock: lock(r.addr), flags: flags, error: Int32(bitPattern: r.u32))
        case GTRACE_RAW_LOCK_RELEASE.rawValue: return .lockRelease(lock: lock(r.addr), flags: flags)
        case GTRACE_RAW_LOCK_TRY_FAILED.rawValue: return .lockTryFailed(lock: lock(r.addr), flags: flags)
        case GTRACE_RAW_COND_WAIT.rawValue: return .conditionWait(condition: lock(r.addr), mutex: lock(r.arg))
        case GTRACE_RAW_COND_WOKE.rawValue:
            return .conditionWoke(condition: lock(r.addr), mutex: lock(r.arg), result: Int32(bitPattern: r.u32))
        default: return nil
        }
    }
}

/// Cuts one thread's time-ordered events into encoded blocks as they arrive,
/// merging in a few extra events (thread names set by other threads).
struct BlockCutter {
    let thread: Int
    private var extra: [TraceEvent]
    private var nextExtra = 0
    private var pending: [TraceEvent] = []
    private var blocks: [EncodedBlock] = []

    init(thread: Int, interleaving extra: [TraceEvent]) {
        self.thread = thread
        self.extra = extra
        pending.reserveCapacity(TraceFileWriter.maximumEventsPerBlock)
    }

    mutating func append(_ event: TraceEvent) {
        while nextExtra < extra.count, extra[nextExtra].time <= event.time {
            push(extra[nextExtra])
            nextExtra += 1
        }
        push(event)
    }

    mutating func finish() -> [EncodedBlock] {
        while nextExtra < extra.count {
            push(extra[nextExtra])
            nextExtra += 1
        }
        flush()
        return blocks
    }

    private mutating func push(_ event: TraceEvent) {
        pending.append(event)
        if pending.count == TraceFileWriter.maximumEventsPerBlock { flush() }
    }

    private mutating func flush() {
        if let block = EncodedBlock(thread: thread, events: pending[...]) { blocks.append(block) }
        pending.removeAll(keepingCapacity: true)
    }
}
