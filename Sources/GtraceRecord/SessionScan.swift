import CGtraceFormat
import GtraceFormat

/// Thread identity inside a session.
struct ThreadKey: Hashable {
    var image: SessionContents.ImageKey
    var tid: Int32
    /// 0, or 1, 2... for the later threads of the image that had this tid (SessionReader).
    var generation = 0
}

/// One GIL: the main interpreter's or a subinterpreter's, by its address.
struct GILKey: Hashable {
    var image: SessionContents.ImageKey
    var address: UInt64
}

/// A Python code object as the runtime identifies it: its address and an
/// identity of its contents (a reused address gets another identity).
struct PythonCodeKey: Hashable {
    var address: UInt64
    var identity: UInt64
}

struct PythonCodeDefinition {
    var firstLine: UInt32
    var name: String
    var file: String
    var time: UInt64
}

/// The earliest and latest of a set of raw timestamps. The clock fit is
/// monotone, so the set's earliest and latest trace times are the times of
/// these two (whichever way the fit runs): a scan can keep raw timestamps and
/// convert a few of them once the fit is known.
struct TimestampRange {
    private(set) var low = UInt64.max
    private(set) var high: UInt64 = 0

    mutating func include(_ tsc: UInt64) {
        low = min(low, tsc)
        high = max(high, tsc)
    }

    var isEmpty: Bool { low > high }

    func union(_ other: TimestampRange) -> TimestampRange {
        TimestampRange(low: min(low, other.low), high: max(high, other.high))
    }

    func earliest(_ clock: inout TraceBuilder.ThreadClock) -> UInt64 { min(clock.time(low), clock.time(high)) }
    func latest(_ clock: inout TraceBuilder.ThreadClock) -> UInt64 { max(clock.time(low), clock.time(high)) }
}

/// Where one thread's scan stands between two of its chunks: the merge scans
/// a thread's chunks in one go, the recorder's live scan (`LiveScan`) those a
/// thread completed while the command ran, and the merge the rest.
struct ThreadScanState {
    let key: ThreadKey
    fileprivate var range = TimestampRange()
    fileprivate var lastTSC: UInt64 = 0
    fileprivate var ordered = true
    fileprivate var records = 0
    fileprivate var pendingCode: SessionScan.PendingCode?
    /// Lock addresses this thread's records used (their first use is known already).
    fileprivate var recentLocks = RecentAddresses()
    /// Code objects this thread's frames referred to (in `pythonReferences` already).
    fileprivate var recentCodes = RecentCodes()
    /// Numbers of the chunks scanned, in order.
    private(set) var chunks: [Int] = []

    init(key: ThreadKey) {
        self.key = key
    }

    fileprivate mutating func scanned(_ number: Int) { chunks.append(number) }
}

/// What one pass over every raw record of a session finds: when processes and
/// threads started and ended, thread names, the locks used, the GILs, and
/// the clock pairs the runtime recorded. The pass runs before the clock fit
/// (it needs those pairs): it keeps raw timestamps, and `resolveTimes`
/// converts the ones it kept into trace time.
struct SessionScan {
    var imageStart: [SessionContents.ImageKey: UInt64] = [:]
    var imageExit: [SessionContents.ImageKey: gtrace_raw_record] = [:]
    var threadStart: [ThreadKey: (time: UInt64, creatorTid: Int32?)] = [:]
    var threadEnd: [ThreadKey: gtrace_raw_record] = [:]
    var threadNames: [ThreadKey: [(time: UInt64, name: String)]] = [:]
    var lockFirstSeen: [SessionContents.ImageKey: [UInt64: (time: UInt64, kind: LockKind)]] = [:]
    /// GIL_INFO per GIL; CPython's counters per image (tagged with the GIL index).
    var gilInfo: [GILKey: gtrace_raw_record] = [:]
    var gilStats: [SessionContents.ImageKey: [gtrace_raw_record]] = [:]     // at exit / GIL destruction
    var gilBaseline: [SessionContents.ImageKey: [gtrace_raw_record]] = [:]  // inherited by a fork child
    var gilThreadStateCounts: [SessionContents.ImageKey: [gtrace_raw_record]] = [:]  // same-thread changes, reused states
    var firstGILEvent: [GILKey: UInt64] = [:]
    var firstEvent: [ThreadKey: UInt64] = [:]
    var lastEvent: [ThreadKey: UInt64] = [:]
    /// Threads whose records (clock pairs aside) are not in time order: a
    /// signal handler recorded between another record's timestamp and its slot.
    var unordered: Set<ThreadKey> = []
    var loss = RuntimeLoss()
    /// Wait status of each child pid some traced process reaped (BLOCK_END of a wait call).
    var reapedByWait: [Int32: Int32] = [:]
    /// posix_spawn calls that failed (SPAWN_FAILED): the child glibc started
    /// in [start, end] exited 127 and glibc reaped it itself.
    var failedSpawns: [(pid: Int32, start: UInt64, end: UInt64, error: Int32)] = []
    /// Python code objects defined by the runtime (PY_CODE + PY_TEXT), per image.
    var pythonCodes: [SessionContents.ImageKey: [PythonCodeKey: PythonCodeDefinition]] = [:]
    /// Code objects the frames refer to, per image.
    var pythonReferences: [SessionContents.ImageKey: Set<PythonCodeKey>] = [:]
    /// Raw records per thread of `session.threads`.
    private(set) var recordsPerThread: [Int] = []
    /// The runtime's (timestamp, CLOCK_MONOTONIC) pairs (CLOCK_SYNC), in thread order.
    private(set) var clockPairs: [(tsc: UInt64, monotonic: UInt64)] = []
    typealias PendingCode = (key: PythonCodeKey, definition: PythonCodeDefinition, records: Int, text: [UInt8])
    // The thread being scanned (from its ThreadScanState, for one chunk at a time).
    private var pendingCode: PendingCode?
    private var recentLocks = RecentAddresses()
    private var recentCodes = RecentCodes()
    // Kept as raw timestamps until `resolveTimes`.
    private var imageStartRange: [SessionContents.ImageKey: TimestampRange] = [:]
    private var firstGILEventRange: [GILKey: TimestampRange] = [:]
    private var threadRange: [ThreadKey: TimestampRange] = [:]
    private var threadLoss: [(lost: UInt64, brokenErrno: Int32, range: TimestampRange, pid: Int32)] = []

    /// Scans `session`: every record once, in thread order, no clock yet; a
    /// session of `minimumRecords` or more on two threads, each scanning about
    /// half the records. `live`: threads' scans of their first chunks, made
    /// while the command ran (LiveScan), continued here.
    init(session: SessionContents, threads: Int, live: [ThreadKey: LiveScan.Part] = [:],
         minimumRecords: Int = BlockEncoder.secondThreadMinimumRecords) {
        // What is left to scan per thread.
        let slots = session.threads.map { thread in
            let done = live[thread.key]?.state.chunks.count ?? 0
            return thread.chunks.dropFirst(done).reduce(0) { $0 + SessionContents.ThreadRecords.slots(in: $1) }
        }
        guard threads > 1, slots.reduce(0, +) >= minimumRecords,
              let split = TraceBuilder.halves(slots) else {
            self.init(session.threads[...], live: live)
            return
        }
        let later = ScanJob(session.threads[split...], live: live)
        let work = BackgroundWork { [later] in later.run() }
        self.init(session.threads[..<split], live: live)
        work.join()
        append(later.scan)
    }

    /// Scans these threads, continuing the live scans of those that have one.
    init(_ threads: ArraySlice<SessionContents.ThreadRecords>, live: [ThreadKey: LiveScan.Part] = [:]) {
        for thread in threads {
            let key = thread.key
            // A live scan counts when the thread's chunks start with the ones it scanned.
            if let part = live[key], !part.state.chunks.isEmpty,
               Array(thread.chunkNumbers.prefix(part.state.chunks.count)) == part.state.chunks {
                var piece = part.scan, state = part.state
                for (chunk, number) in zip(thread.chunks, thread.chunkNumbers).dropFirst(state.chunks.count) {
                    piece.scan(chunk, number: number, dropsPages: thread.dropsPages, into: &state)
                }
                piece.finish(state, lost: thread.lost, brokenErrno: thread.brokenErrno)
                append(piece)
                continue
            }
            var state = ThreadScanState(key: key)
            for (chunk, number) in zip(thread.chunks, thread.chunkNumbers) {
                scan(chunk, number: number, dropsPages: thread.dropsPages, into: &state)
            }
            finish(state, lost: thread.lost, brokenErrno: thread.brokenErrno)
        }
    }

    /// An empty scan (a thread's part, before its first chunk).
    init() {}

    /// Scans one chunk of the thread of `state`, after its earlier chunks.
    mutating func scan(_ chunk: MappedFile, number: Int, dropsPages: Bool, into state: inout ThreadScanState) {
        let key = state.key
        var range = state.range, lastTSC = state.lastTSC, ordered = state.ordered, records = state.records
        (pendingCode, recentLocks, recentCodes) = (state.pendingCode, state.recentLocks, state.recentCodes)
        SessionContents.ThreadRecords.forEach(in: chunk, dropsPages: dropsPages) { r in
            records += 1
            range.include(r.tsc)
            if r.kind != UInt16(GTRACE_RAW_CLOCK_SYNC.rawValue) {
                if r.tsc < lastTSC { ordered = false }
                lastTSC = r.tsc
            } else {
                clockPairs.append((r.tsc, r.addr))
            }
            record(r, image: key.image, key: key)
        }
        (state.range, state.lastTSC, state.ordered, state.records) = (range, lastTSC, ordered, records)
        (state.pendingCode, state.recentLocks, state.recentCodes) = (pendingCode, recentLocks, recentCodes)
        state.scanned(number)
    }

    /// Ends the thread of `state` (its chunks' loss counts: from their headers, read last).
    mutating func finish(_ state: ThreadScanState, lost: UInt64, brokenErrno: Int32) {
        recordsPerThread.append(state.records)
        if !state.ordered { unordered.insert(state.key) }
        if lost > 0 || brokenErrno != 0 {
            threadLoss.append((lost, brokenErrno, state.range, state.key.image.pid))
        }
        if !state.range.isEmpty { threadRange[state.key] = state.range }
    }

    /// Adds the scan of the threads that follow this scan's: what one scan of
    /// both runs of threads finds (the first record wins where it decides,
    /// the last where it decides, lists in thread order).
    mutating func append(_ later: SessionScan) {
        imageStartRange.merge(later.imageStartRange) { $0.union($1) }
        imageExit.merge(later.imageExit) { earlier, _ in earlier }
        threadStart.merge(later.threadStart) { _, last in last }
        threadEnd.merge(later.threadEnd) { earlier, _ in earlier }
        threadNames.merge(later.threadNames) { $0 + $1 }
        for (image, seen) in later.lockFirstSeen { lockFirstSeen[image, default: [:]].merge(seen) { earlier, _ in earlier } }
        // The latest timestamp, and of equal ones the last record.
        gilInfo.merge(later.gilInfo) { earlier, last in earlier.tsc <= last.tsc ? last : earlier }
        gilStats.merge(later.gilStats) { $0 + $1 }
        gilBaseline.merge(later.gilBaseline) { $0 + $1 }
        gilThreadStateCounts.merge(later.gilThreadStateCounts) { $0 + $1 }
        firstGILEventRange.merge(later.firstGILEventRange) { $0.union($1) }
        threadRange.merge(later.threadRange) { $0.union($1) }
        unordered.formUnion(later.unordered)
        threadLoss += later.threadLoss
        reapedByWait.merge(later.reapedByWait) { _, last in last }
        failedSpawns += later.failedSpawns
        for (image, codes) in later.pythonCodes { pythonCodes[image, default: [:]].merge(codes) { earlier, _ in earlier } }
        for (image, references) in later.pythonReferences { pythonReferences[image, default: []].formUnion(references) }
        recordsPerThread += later.recordsPerThread
        clockPairs += later.clockPairs
    }

    /// Converts the raw timestamps the scan kept into trace time.
    mutating func resolveTimes(_ start: TraceBuilder.ThreadClock) {
        var clock = start
        for (key, range) in imageStartRange { imageStart[key] = range.earliest(&clock) }
        for (key, range) in firstGILEventRange { firstGILEvent[key] = range.earliest(&clock) }
        for (key, range) in threadRange {
            firstEvent[key] = range.earliest(&clock)
            lastEvent[key] = range.latest(&clock)
        }
        for entry in threadLoss {
            loss.add(lost: entry.lost, brokenErrno: entry.brokenErrno,
                     lastRecord: entry.range.isEmpty ? 0 : entry.range.latest(&clock), pid: entry.pid)
        }
        threadStart = threadStart.mapValues { (clock.time($0.time), $0.creatorTid) }
        for key in threadNames.keys {
            threadNames[key] = threadNames[key]?.map { (clock.time($0.time), $0.name) }
        }
        for image in lockFirstSeen.keys {
            lockFirstSeen[image] = lockFirstSeen[image]?.mapValues { (clock.time($0.time), $0.kind) }
        }
        for image in pythonCodes.keys {
            pythonCodes[image] = pythonCodes[image]?.mapValues {
                var definition = $0
                definition.time = clock.time(definition.time)
                return definition
            }
        }
        failedSpawns = failedSpawns.map { ($0.pid, clock.time($0.start), clock.time($0.end), $0.error) }
    }

    private mutating func record(_ r: gtrace_raw_record, image: SessionContents.ImageKey, key: ThreadKey) {
        let t = r.tsc  // raw until resolveTimes
        switch UInt32(r.kind) {
        case GTRACE_RAW_PROCESS_START.rawValue:
            imageStartRange[image, default: TimestampRange()].include(t)
        case GTRACE_RAW_PROCESS_EXIT.rawValue:
            if imageExit[image] == nil { imageExit[image] = r }
        case GTRACE_RAW_THREAD_START.rawValue:
            threadStart[key] = (t, r.u32 == 0 ? nil : Int32(bitPattern: r.u32))
        case GTRACE_RAW_THREAD_END.rawValue:
            if threadEnd[key] == nil { threadEnd[key] = r }
        case GTRACE_RAW_THREAD_NAME.rawValue:
            // A thread names itself with its own tid or 0; another thread's name
            // for a reused tid goes to the tid's first thread.
            let tid = Int32(bitPattern: r.u32)
            let target = tid == 0 || tid == key.tid ? key : ThreadKey(image: image, tid: tid)
            threadNames[target, default: []].append((t, Self.name(from: r)))
        case GTRACE_RAW_LOCK_ACQUIRE.rawValue ... GTRACE_RAW_LOCK_TRY_FAILED.rawValue:
            var kind: LockKind = (r.flags & UInt16(GTRACE_LOCKF_RWLOCK.rawValue)) != 0 ? .rwlock : .mutex
            if r.flags & UInt16(GTRACE_LOCKF_SEMAPHORE.rawValue) != 0 { kind = .pythonLock }
            if r.flags & UInt16(GTRACE_LOCKF_BINARY_SEM.rawValue) != 0 { kind = .semaphore }
            if r.flags & UInt16(GTRACE_LOCKF_SPIN.rawValue) != 0 { kind = .spinlock }
            if r.flags & UInt16(GTRACE_LOCKF_FILE.rawValue) != 0 { kind = .fileLock }
            firstUse(r.addr, in: image, at: t, kind: kind)
        case GTRACE_RAW_FUTEX_WAIT.rawValue ... GTRACE_RAW_FUTEX_WAKE.rawValue:
            firstUse(r.addr, in: image, at: t, kind: .futex)
        case GTRACE_RAW_GIL_INFO.rawValue:
            let gil = GILKey(image: image, address: r.addr)
            if gilInfo[gil].map({ $0.tsc <= r.tsc }) ?? true { gilInfo[gil] = r }
        case GTRACE_RAW_GIL_STATS.rawValue where r.u32 == 1:
            gilBaseline[image, default: []].append(r)
        case GTRACE_RAW_GIL_STATS.rawValue where r.u32 == 2:
            gilThreadStateCounts[image, default: []].append(r)
        case GTRACE_RAW_GIL_STATS.rawValue:
            gilStats[image, default: []].append(r)
        case GTRACE_RAW_GIL_WAIT.rawValue ... GTRACE_RAW_GIL_RELEASE.rawValue:
            let gil = GILKey(image: image, address: r.addr)
            firstGILEventRange[gil, default: TimestampRange()].include(t)
        case GTRACE_RAW_BLOCK_END.rawValue:
            let call = BlockingCall(rawValue: UInt8(truncatingIfNeeded: r.flags))
            let child = Int32(bitPattern: r.u32)
            if call.isWaitForChild, child > 0 { reapedByWait[child] = Int32(truncatingIfNeeded: r.addr) }
        case GTRACE_RAW_SPAWN_FAILED.rawValue:
            failedSpawns.append((image.pid, r.addr, t, Int32(bitPattern: r.u32)))
        case GTRACE_RAW_WAKER.rawValue where r.flags == UInt16(GTRACE_WAKER_REAPED.rawValue):
            let child = Int32(bitPattern: r.u32)
            if child > 0 { reapedByWait[child] = Int32(truncatingIfNeeded: r.addr) }
        case GTRACE_RAW_COND_WAIT.rawValue, GTRACE_RAW_COND_WOKE.rawValue:
            firstUse(r.addr, in: image, at: t, kind: .condition)
            firstUse(r.arg, in: image, at: t, kind: .mutex)
        case GTRACE_RAW_PY_FRAME.rawValue:
            let code = PythonCodeKey(address: r.addr, identity: r.arg)
            if !recentCodes.isRecent(code) { pythonReferences[image, default: []].insert(code) }
        case GTRACE_RAW_PY_CODE.rawValue:
            pendingCode = (PythonCodeKey(address: r.addr, identity: r.arg),
                           PythonCodeDefinition(firstLine: r.u32, name: "", file: "", time: t), Int(r.flags), [])
            if r.flags == 0 { finishCode(image: image) }
        case GTRACE_RAW_PY_TEXT.rawValue:
            guard var pending = pendingCode, Int(r.flags) == pending.text.count / 16 else { pendingCode = nil; return }
            for word in [r.addr, r.arg] {
                for i in 0..<8 { pending.text.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(i)))) }
            }
            pendingCode = pending
            if pending.text.count / 16 == pending.records { finishCode(image: image) }
        default:
            break
        }
    }

    /// A complete definition: "qualname\0file\0" in its text records.
    private mutating func finishCode(image: SessionContents.ImageKey) {
        guard var pending = pendingCode else { return }
        pendingCode = nil
        let parts = pending.text.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        pending.definition.name = parts.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        pending.definition.file = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : ""
        if pythonCodes[image]?[pending.key] == nil { pythonCodes[image, default: [:]][pending.key] = pending.definition }
    }

    /// Records `address`'s first use in `image` (all of a thread's records are of one image).
    private mutating func firstUse(_ address: UInt64, in image: SessionContents.ImageKey, at time: UInt64, kind: LockKind) {
        if recentLocks.isRecent(address) { return }
        if lockFirstSeen[image]?[address] == nil { lockFirstSeen[image, default: [:]][address] = (time, kind) }
    }

    /// The up to 16 name bytes packed into a THREAD_NAME record.
    static func name(from r: gtrace_raw_record) -> String {
        var bytes: [UInt8] = []
        for word in [r.addr, r.arg] {
            for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(i)))) }
        }
        if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The later run of a session's threads, scanned on a second thread.
final class ScanJob: @unchecked Sendable {
    private let threads: ArraySlice<SessionContents.ThreadRecords>
    private let live: [ThreadKey: LiveScan.Part]
    private(set) var scan = SessionScan()

    init(_ threads: ArraySlice<SessionContents.ThreadRecords>, live: [ThreadKey: LiveScan.Part]) {
        self.threads = threads
        self.live = live
    }

    func run() {
        scan = SessionScan(threads, live: live)
    }
}
