import CGtraceFormat
import GtraceFormat

/// What converting a thread's records needs from the builder, read-only: the
/// converters of a merge on two threads share it.
struct ConversionContext: @unchecked Sendable {
    let lockIndex: [TraceBuilder.LockKey: Int]
    let threadIndex: [ThreadKey: Int]
    let threadsByTid: ThreadsByTid
    let processIndex: [SessionContents.ImageKey: Int]
    let pythonCodeIndex: [SessionContents.ImageKey: [PythonCodeKey: Int]]
    let pythonCodes: [PythonCode]
    let clock: TraceBuilder.ThreadClock
    let unordered: Set<ThreadKey>
    /// Thread names set by other threads, per trace thread, in time order.
    let namesByTarget: [Int: [TraceEvent]]
    let switchesByThread: [Int: [PerfData.Switch]]
    let epochMonotonic: UInt64
    let lockCount: Int
    let threadCount: Int

    /// The events merged into a thread's own: names set by others and perf's switches.
    func interleaving(_ thread: Int) -> [TraceEvent] {
        let names = namesByTarget[thread] ?? []
        let switches = TraceBuilder.schedulingEvents(switchesByThread[thread] ?? [], thread: thread, epochMonotonic: epochMonotonic)
        return names.isEmpty ? switches : (names + switches).sorted { $0.time < $1.time }
    }
}

/// Converts threads' raw records into events, cut into blocks for `encoder`,
/// counting call sites and Python lock sites on the way. The merge runs one
/// converter, or two on two threads over two halves of the threads; their
/// counts add up (`merge`) to what one converter counts over all threads.
struct ThreadConverter {
    let context: ConversionContext
    let encoder: BlockEncoder
    private(set) var sites: CallSiteCounter
    private(set) var pythonLocks = PythonLockSites()
    /// Trace threads converted.
    private(set) var converted: Set<Int> = []

    init(context: ConversionContext, encoder: BlockEncoder) {
        self.context = context
        self.encoder = encoder
        sites = CallSiteCounter(locks: context.lockCount, threads: context.threadCount)
    }

    /// Adds the counts of a converter of the threads that follow this one's.
    mutating func merge(_ later: ThreadConverter) {
        sites.merge(later.sites)
        pythonLocks.merge(later.pythonLocks)
        converted.formUnion(later.converted)
    }

    mutating func convert(_ thread: SessionContents.ThreadRecords) {
        let key = thread.key
        guard let index = context.threadIndex[key], let process = context.processIndex[thread.image] else { return }
        var cutter = BlockCutter(thread: index, interleaving: context.interleaving(index), encoder: encoder)
        var clock = context.clock
        var lastTime: UInt64 = 0
        let locks = context.lockIndex
        let threadsByTid = context.threadsByTid
        var recentLocks = RecentAddresses()
        func lock(_ address: UInt64) -> Int {
            recentLocks.value(address) { locks[TraceBuilder.LockKey(process: process, address: $0)] ?? 0 }
        }
        var waitingForGIL: Set<Int> = []  // GIL locks this thread asked for
        let codes = context.pythonCodeIndex[thread.image] ?? [:]
        var recentCodes = RecentCodes()
        var python = PythonFrameCollector()
        let pyCodes = context.pythonCodes
        func convert(_ r: gtrace_raw_record) {
            if r.kind == UInt16(GTRACE_RAW_PY_FRAME.rawValue) {
                python.frame(r, code: recentCodes.value(PythonCodeKey(address: r.addr, identity: r.arg)) { codes[$0] })
                return
            }
            // A code object seen for the first time is defined between a
            // location's anchor and its frames: the location goes on.
            if r.kind == UInt16(GTRACE_RAW_PY_CODE.rawValue) || r.kind == UInt16(GTRACE_RAW_PY_TEXT.rawValue) { return }
            if let event = python.flush(thread: index, pythonLocks: &pythonLocks, codes: pyCodes) { cutter.append(event) }
            if r.kind == UInt16(GTRACE_RAW_PY_LOCK_NEW.rawValue) {
                python.begin(at: clock.time(r.tsc), anchor: .lockNew(r.addr))
                return
            }
            if r.kind == UInt16(GTRACE_RAW_PY_SAMPLE.rawValue) {
                if let gil = locks[TraceBuilder.LockKey(process: process, address: r.addr)] {
                    python.begin(at: clock.time(r.tsc), anchor: .sample(gil))
                }
                return
            }
            if (GTRACE_RAW_GIL_WAIT.rawValue ... GTRACE_RAW_GIL_RELEASE.rawValue).contains(UInt32(r.kind)) {
                if let gil = locks[TraceBuilder.LockKey(process: process, address: r.addr)],
                   let kind = TraceBuilder.gilEventKind(r, lock: gil, waiting: &waitingForGIL) {
                    let at = clock.time(r.tsc)
                    cutter.append(TraceEvent(time: at, thread: index, kind: kind))
                    if !codes.isEmpty, r.kind != UInt16(GTRACE_RAW_GIL_WAIT.rawValue) {
                        python.begin(at: at, anchor: r.kind == UInt16(GTRACE_RAW_GIL_RELEASE.rawValue) ? .gilRelease : .gilAcquire)
                    }
                }
                return
            }
            if (GTRACE_RAW_LOCK_ACQUIRE.rawValue ... GTRACE_RAW_LOCK_FAILED.rawValue).contains(UInt32(r.kind))
                || (GTRACE_RAW_FUTEX_WAIT.rawValue ... GTRACE_RAW_FUTEX_WAKE.rawValue).contains(UInt32(r.kind))
                || (GTRACE_RAW_COND_WAIT.rawValue ... GTRACE_RAW_COND_WOKE.rawValue).contains(UInt32(r.kind))
                || (r.kind == UInt16(GTRACE_RAW_LOCK_RELEASE.rawValue) && r.flags & UInt16(GTRACE_LOCKF_VIA_COND.rawValue) != 0) {
                sites.record(r, lock: lock(r.addr), thread: index, at: clock.time(r.tsc))
            }
            if r.kind == UInt16(GTRACE_RAW_WAKER.rawValue),
               r.flags == UInt16(GTRACE_WAKER_COND_SIGNAL.rawValue) || r.flags == UInt16(GTRACE_WAKER_COND_BROADCAST.rawValue),
               locks[TraceBuilder.LockKey(process: process, address: r.addr)] == nil {
                return  // a condition nobody waited on
            }
            if r.kind == UInt16(GTRACE_RAW_BLOCK_END.rawValue), r.arg != 0 {
                // An I/O call recorded once it had blocked: its start is in `arg`.
                let call = BlockingCall(rawValue: UInt8(truncatingIfNeeded: r.flags))
                cutter.append(TraceEvent(time: max(clock.time(r.arg), lastTime), thread: index,
                                         kind: .blockBegin(call: call, small: r.u32, argument: UInt64.max)))
            }
            guard let kind = TraceBuilder.eventKind(r, lock: lock,
                                                    thread: { threadsByTid.index(image: thread.image, tid: $0, at: clock.time(r.tsc)) }) else { return }
            lastTime = clock.time(r.tsc)
            cutter.append(TraceEvent(time: lastTime, thread: index, kind: kind))
            if (GTRACE_RAW_FUTEX_WAIT.rawValue ... GTRACE_RAW_FUTEX_WOKE.rawValue).contains(UInt32(r.kind)),
               r.flags & UInt16(GTRACE_FUTEX_PYMUTEX) != 0 {
                pythonLocks.pyMutex(r, lock: lock(r.addr), thread: index, at: lastTime, frame: python.lastRelease, codes: pyCodes)
            }
            if r.flags & UInt16(GTRACE_LOCKF_SEMAPHORE.rawValue) != 0,
               (GTRACE_RAW_LOCK_ACQUIRE.rawValue ... GTRACE_RAW_LOCK_TRY_FAILED.rawValue).contains(UInt32(r.kind)) {
                let id = lock(r.addr)
                pythonLocks.record(r, lock: id, thread: index, at: lastTime, frame: python.lastRelease, codes: pyCodes)
                if r.kind == UInt16(GTRACE_RAW_LOCK_ACQUIRE.rawValue) || r.kind == UInt16(GTRACE_RAW_LOCK_ACQUIRED.rawValue) {
                    python.begin(at: lastTime, anchor: .lock(id))
                }
            }
        }
        if !context.unordered.contains(key) {
            thread.forEach(convert)
        } else {
            // A signal handler's records can interleave: order by time, stably.
            var records: [gtrace_raw_record] = []
            thread.forEach { records.append($0) }
            let order = records.indices.sorted { (records[$0].tsc, $0) < (records[$1].tsc, $1) }
            for i in order { convert(records[i]) }
        }
        if let event = python.flush(thread: index, pythonLocks: &pythonLocks, codes: pyCodes) { cutter.append(event) }
        cutter.finish()
        converted.insert(index)
    }

    /// A thread known only from perf: its switches (and names) are all its events.
    mutating func convertSwitchesOnly(thread index: Int) {
        var cutter = BlockCutter(thread: index, interleaving: context.interleaving(index), encoder: encoder)
        cutter.finish()
        converted.insert(index)
    }
}
