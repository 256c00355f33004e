import CGtraceFormat
import GtraceFormat

/// Thread identity inside a session.
struct ThreadKey: Hashable {
    var image: SessionContents.ImageKey
    var tid: Int32
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

/// What one pass over every raw record of a session finds: when processes and
/// threads started and ended, thread names, the locks used, the GILs.
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
    private var pendingCode: (key: PythonCodeKey, definition: PythonCodeDefinition, records: Int, text: [UInt8])?
    /// Lock addresses the current thread's records used (their first use is known already).
    private var recentLocks = RecentAddresses()

    /// Scans `session`; `clock` converts a raw timestamp to trace time (a copy per thread).
    init(session: SessionContents, clock start: TraceBuilder.ThreadClock) {
        for thread in session.threads {
            var clock = start
            let key = ThreadKey(image: thread.image, tid: thread.tid)
            var first = UInt64.max, last: UInt64 = 0
            var lastTSC: UInt64 = 0
            var ordered = true
            pendingCode = nil
            recentLocks = RecentAddresses()
            thread.forEach { r in
                let t = clock.time(r.tsc)
                first = min(first, t)
                last = max(last, t)
                if r.kind != UInt16(GTRACE_RAW_CLOCK_SYNC.rawValue) {
                    if r.tsc < lastTSC { ordered = false }
                    lastTSC = r.tsc
                }
                record(r, at: t, thread: thread, key: key)
            }
            if !ordered { unordered.insert(key) }
            if thread.lost > 0 || thread.brokenErrno != 0 {
                loss.add(lost: thread.lost, brokenErrno: thread.brokenErrno, lastRecord: first == .max ? 0 : last, pid: thread.image.pid)
            }
            if first != .max {
                firstEvent[key] = first
                lastEvent[key] = last
            }
        }
        var clock = start
        failedSpawns = failedSpawns.map { ($0.pid, clock.time($0.start), $0.end, $0.error) }
    }

    private mutating func record(_ r: gtrace_raw_record, at t: UInt64, thread: SessionContents.ThreadRecords, key: ThreadKey) {
        switch UInt32(r.kind) {
        case GTRACE_RAW_PROCESS_START.rawValue:
            imageStart[thread.image] = min(imageStart[thread.image] ?? t, t)
        case GTRACE_RAW_PROCESS_EXIT.rawValue:
            if imageExit[thread.image] == nil { imageExit[thread.image] = r }
        case GTRACE_RAW_THREAD_START.rawValue:
            threadStart[key] = (t, r.u32 == 0 ? nil : Int32(bitPattern: r.u32))
        case GTRACE_RAW_THREAD_END.rawValue:
            if threadEnd[key] == nil { threadEnd[key] = r }
        case GTRACE_RAW_THREAD_NAME.rawValue:
            let target = ThreadKey(image: thread.image, tid: r.u32 == 0 ? thread.tid : Int32(bitPattern: r.u32))
            threadNames[target, default: []].append((t, Self.name(from: r)))
        case GTRACE_RAW_LOCK_ACQUIRE.rawValue ... GTRACE_RAW_LOCK_TRY_FAILED.rawValue:
            var kind: LockKind = (r.flags & UInt16(GTRACE_LOCKF_RWLOCK.rawValue)) != 0 ? .rwlock : .mutex
            if r.flags & UInt16(GTRACE_LOCKF_SEMAPHORE.rawValue) != 0 { kind = .pythonLock }
            firstUse(r.addr, in: thread.image, at: t, kind: kind)
        case GTRACE_RAW_FUTEX_WAIT.rawValue ... GTRACE_RAW_FUTEX_WAKE.rawValue:
            firstUse(r.addr, in: thread.image, at: t, kind: .futex)
        case GTRACE_RAW_GIL_INFO.rawValue:
            let gil = GILKey(image: thread.image, address: r.addr)
            if gilInfo[gil].map({ $0.tsc <= r.tsc }) ?? true { gilInfo[gil] = r }
        case GTRACE_RAW_GIL_STATS.rawValue where r.u32 == 1:
            gilBaseline[thread.image, default: []].append(r)
        case GTRACE_RAW_GIL_STATS.rawValue where r.u32 == 2:
            gilThreadStateCounts[thread.image, default: []].append(r)
        case GTRACE_RAW_GIL_STATS.rawValue:
            gilStats[thread.image, default: []].append(r)
        case GTRACE_RAW_GIL_WAIT.rawValue ... GTRACE_RAW_GIL_RELEASE.rawValue:
            let gil = GILKey(image: thread.image, address: r.addr)
            firstGILEvent[gil] = min(firstGILEvent[gil] ?? t, t)
        case GTRACE_RAW_BLOCK_END.rawValue:
            let call = BlockingCall(rawValue: UInt8(truncatingIfNeeded: r.flags))
            let child = Int32(bitPattern: r.u32)
            if call.isWaitForChild, child > 0 { reapedByWait[child] = Int32(truncatingIfNeeded: r.addr) }
        case GTRACE_RAW_SPAWN_FAILED.rawValue:  // start converted at the end of init
            failedSpawns.append((thread.image.pid, r.addr, t, Int32(bitPattern: r.u32)))
        case GTRACE_RAW_WAKER.rawValue where r.flags == UInt16(GTRACE_WAKER_REAPED.rawValue):
            let child = Int32(bitPattern: r.u32)
            if child > 0 { reapedByWait[child] = Int32(truncatingIfNeeded: r.addr) }
        case GTRACE_RAW_COND_WAIT.rawValue, GTRACE_RAW_COND_WOKE.rawValue:
            firstUse(r.addr, in: thread.image, at: t, kind: .condition)
            firstUse(r.arg, in: thread.image, at: t, kind: .mutex)
        case GTRACE_RAW_PY_FRAME.rawValue:
            pythonReferences[thread.image, default: []].insert(PythonCodeKey(address: r.addr, identity: r.arg))
        case GTRACE_RAW_PY_CODE.rawValue:
            pendingCode = (PythonCodeKey(address: r.addr, identity: r.arg),
                           PythonCodeDefinition(firstLine: r.u32, name: "", file: "", time: t), Int(r.flags), [])
            if r.flags == 0 { finishCode(image: thread.image) }
        case GTRACE_RAW_PY_TEXT.rawValue:
            guard var pending = pendingCode, Int(r.flags) == pending.text.count / 16 else { pendingCode = nil; return }
            for word in [r.addr, r.arg] {
                for i in 0..<8 { pending.text.append(UInt8(truncatingIfNeeded: word >> (8 * UInt64(i)))) }
            }
            pendingCode = pending
            if pending.text.count / 16 == pending.records { finishCode(image: thread.image) }
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
