import CGtraceFormat
import GtraceFormat

/// Converting raw records into trace events.
extension TraceBuilder {
    /// The lock event a GIL record becomes: a wait, an acquisition (after a
    /// wait or not) or a release of the process's GIL lock; nil for other records.
    static func gilEventKind(_ r: gtrace_raw_record, lock: Int, waiting: inout Set<Int>) -> EventKind? {
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
    static func eventKind(_ r: gtrace_raw_record, lock: (UInt64) -> Int, thread: (Int32) -> Int?) -> EventKind? {
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
        case GTRACE_RAW_BLOCK_BEGIN.rawValue:
            return .blockBegin(call: BlockingCall(rawValue: UInt8(truncatingIfNeeded: r.flags)), small: r.u32, argument: r.addr)
        case GTRACE_RAW_BLOCK_END.rawValue:
            let call = BlockingCall(rawValue: UInt8(truncatingIfNeeded: r.flags))
            if r.arg != 0 {  // I/O: u32 = fd, addr = bytes or errno
                return .blockEnd(call: call, result: Int32(truncatingIfNeeded: r.addr), detail: 0)
            }
            return .blockEnd(call: call, result: Int32(bitPattern: r.u32), detail: r.addr)
        case GTRACE_RAW_LOCK_ACQUIRE.rawValue: return .lockAcquire(lock: lock(r.addr), flags: flags)
        case GTRACE_RAW_LOCK_WAIT.rawValue: return .lockWait(lock: lock(r.addr), flags: flags)
        case GTRACE_RAW_LOCK_ACQUIRED.rawValue: return .lockAcquired(lock: lock(r.addr), flags: flags)
        case GTRACE_RAW_LOCK_FAILED.rawValue:
            return .lockFailed(lock: lock(r.addr), flags: flags, error: Int32(bitPattern: r.u32))
        case GTRACE_RAW_LOCK_RELEASE.rawValue: return .lockRelease(lock: lock(r.addr), flags: flags)
        case GTRACE_RAW_LOCK_TRY_FAILED.rawValue: return .lockTryFailed(lock: lock(r.addr), flags: flags)
        case GTRACE_RAW_FUTEX_WAIT.rawValue: return .lockWait(lock: lock(r.addr), flags: [])
        case GTRACE_RAW_FUTEX_WOKE.rawValue: return .futexWoke(lock: lock(r.addr), result: Int32(bitPattern: r.u32))
        case GTRACE_RAW_FUTEX_WAKE.rawValue: return .futexWake(lock: lock(r.addr), result: Int32(bitPattern: r.u32))
        case GTRACE_RAW_COND_WAIT.rawValue: return .conditionWait(condition: lock(r.addr), mutex: lock(r.arg))
        case GTRACE_RAW_COND_WOKE.rawValue:
            return .conditionWoke(condition: lock(r.addr), mutex: lock(r.arg), result: Int32(bitPattern: r.u32))
        case GTRACE_RAW_WAKER.rawValue: return wakerKind(r, lock: lock)
        default: return nil
        }
    }

    /// A raw WAKER record as an event (the caller drops condition records of
    /// conditions nobody waited on).
    static func wakerKind(_ r: gtrace_raw_record, lock: (UInt64) -> Int) -> EventKind? {
        let kind = WakerKind(rawValue: UInt8(truncatingIfNeeded: r.flags))
        switch UInt32(r.flags) {
        case GTRACE_WAKER_IO_WRITE.rawValue:
            // The bytes written since the descriptor's previous IO_WRITE ride in the high half of dev (wakers.c).
            return .waker(kind: kind, object: WakerKind.objectID(inode: r.addr, device: r.arg & 0xffff_ffff),
                          value: UInt64(r.u32) | (r.arg >> 32) << 32)
        case GTRACE_WAKER_IO_WAIT.rawValue, GTRACE_WAKER_IO_READY.rawValue, GTRACE_WAKER_IO_READ.rawValue:
            return .waker(kind: kind, object: WakerKind.objectID(inode: r.addr, device: r.arg), value: UInt64(r.u32))
        case GTRACE_WAKER_COND_SIGNAL.rawValue, GTRACE_WAKER_COND_BROADCAST.rawValue:
            return .waker(kind: kind, object: UInt64(lock(r.addr)), value: 0)
        case GTRACE_WAKER_SEM_POST.rawValue:
            return .waker(kind: kind, object: r.addr, value: 0)
        case GTRACE_WAKER_REAPED.rawValue, GTRACE_WAKER_KILL.rawValue:
            return .waker(kind: kind, object: UInt64(UInt32(r.u32)), value: r.addr)
        default:
            return nil
        }
    }
}
