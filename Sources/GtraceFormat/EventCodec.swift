import CGtraceFormat

/// Encodes and decodes the compact events of an EVENTS block:
/// opcode byte (op | flags << 5), varint time delta, varint operands.
enum EventCodec {
    /// One event's bytes in a buffer of `maximumEventBytes`.
    private struct EventBytes {
        let start: UnsafeMutablePointer<UInt8>
        private(set) var count = 0

        init(_ start: UnsafeMutablePointer<UInt8>) { self.start = start }

        @inline(__always)
        mutating func byte(_ value: UInt8) {
            start[count] = value
            count += 1
        }

        @inline(__always)
        mutating func varint(_ value: UInt64) {
            var v = value
            while v >= 0x80 {
                byte(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            byte(UInt8(v))
        }

        @inline(__always)
        mutating func varint(_ value: Int) { varint(UInt64(max(0, value))) }
    }

    /// The most bytes one event takes (varints of at most 10 bytes): a Python
    /// sample's opcode, delta, lock and frame count (1 + 10 + 10 + 1) and its
    /// frames' code and line (10 + 5 each), or an opcode, a delta and up to
    /// three other operands (41).
    static let maximumEventBytes = max(48, 22 + PythonStack.capacity * 15)

    static func encode(_ kind: EventKind, delta: UInt64, into w: inout ByteWriter) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximumEventBytes) { buffer in
            var bytes = EventBytes(buffer.baseAddress!)
            encode(kind, delta: delta, into: &bytes)
            w.append(UnsafeBufferPointer(start: buffer.baseAddress, count: bytes.count))
        }
    }

    /// An EVENTS block's payload: thread, first time and count, then the
    /// events (one thread's, in time order; at least one). Written through a
    /// pointer into a buffer large enough for any events, not appended to an
    /// array byte by byte (a capacity and uniqueness check per byte).
    static func blockPayload(thread: Int, events: ArraySlice<TraceEvent>) -> [UInt8] {
        guard let first = events.first else { return [] }
        let capacity = 3 * 10 + events.count * maximumEventBytes
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { scratch.deallocate() }
        var w = EventBytes(scratch)
        w.varint(thread)
        w.varint(first.time)
        w.varint(events.count)
        var previous = first.time
        for event in events {
            encode(event.kind, delta: event.time &- previous, into: &w)
            previous = event.time
        }
        return Array(UnsafeBufferPointer(start: scratch, count: w.count))
    }

    private static func encode(_ kind: EventKind, delta: UInt64, into w: inout EventBytes) {
        func op(_ code: gtrace_event_op, _ flags: LockFlags = []) {
            w.byte(UInt8(code.rawValue) | (flags.rawValue << UInt8(GTRACE_EV_FLAG_SHIFT)))
            w.varint(delta)
        }
        switch kind {
        case .processStart:
            op(GTRACE_EV_PROCESS_START)
        case let .processExit(kind, status):
            op(GTRACE_EV_PROCESS_EXIT); w.varint(UInt64(kind.rawValue)); w.varint(UInt64(UInt32(bitPattern: status)))
        case let .threadStart(creator):
            op(GTRACE_EV_THREAD_START); w.varint(creator.map { $0 + 1 } ?? 0)
        case let .threadEnd(kind, cpu):
            op(GTRACE_EV_THREAD_END); w.varint(UInt64(kind.rawValue)); w.varint(cpu)
        case let .threadName(string):
            op(GTRACE_EV_THREAD_NAME); w.varint(string)
        case let .fork(childPid):
            op(GTRACE_EV_FORK); w.varint(UInt64(UInt32(bitPattern: childPid)))
        case .exec:
            op(GTRACE_EV_EXEC)
        case let .lockAcquire(lock, flags):
            op(GTRACE_EV_LOCK_ACQUIRE, flags); w.varint(lock)
        case let .lockWait(lock, flags):
            op(GTRACE_EV_LOCK_WAIT, flags); w.varint(lock)
        case let .lockAcquired(lock, flags):
            op(GTRACE_EV_LOCK_ACQUIRED, flags); w.varint(lock)
        case let .lockFailed(lock, flags, error):
            op(GTRACE_EV_LOCK_FAILED, flags); w.varint(lock); w.varint(UInt64(UInt32(bitPattern: error)))
        case let .lockRelease(lock, flags):
            op(GTRACE_EV_LOCK_RELEASE, flags); w.varint(lock)
        case let .lockTryFailed(lock, flags):
            op(GTRACE_EV_LOCK_TRY_FAILED, flags); w.varint(lock)
        case let .conditionWait(condition, mutex):
            op(GTRACE_EV_COND_WAIT); w.varint(condition); w.varint(mutex)
        case let .conditionWoke(condition, mutex, result):
            op(GTRACE_EV_COND_WOKE); w.varint(condition); w.varint(mutex); w.varint(UInt64(UInt32(bitPattern: result)))
        case let .futexWoke(lock, result):
            op(GTRACE_EV_FUTEX_WOKE); w.varint(lock); w.varint(UInt64(UInt32(bitPattern: result)))
        case let .futexWake(lock, result):
            op(GTRACE_EV_FUTEX_WAKE); w.varint(lock); w.varint(UInt64(UInt32(bitPattern: result)))
        case let .blockBegin(call, small, argument):
            op(GTRACE_EV_BLOCK_BEGIN); w.varint(UInt64(call.rawValue)); w.varint(UInt64(small)); w.varint(argument)
        case let .blockEnd(call, result, detail):
            op(GTRACE_EV_BLOCK_END); w.varint(UInt64(call.rawValue)); w.varint(UInt64(UInt32(bitPattern: result))); w.varint(detail)
        case let .cpuIn(cpu):
            op(GTRACE_EV_CPU_IN); w.varint(cpu)
        case let .cpuOut(cpu, preempted):
            w.byte(UInt8(GTRACE_EV_CPU_OUT.rawValue) | (preempted ? 1 << UInt8(GTRACE_EV_FLAG_SHIFT) : 0))
            w.varint(delta)
            w.varint(cpu)
        case let .waker(kind, object, value):
            op(GTRACE_EV_WAKER); w.varint(UInt64(kind.rawValue)); w.varint(object); w.varint(value)
        case let .pythonLocation(frames):
            op(GTRACE_EV_PYTHON)
            encodeFrames(frames, into: &w)
        case let .pythonSample(lock, frames):
            w.byte(UInt8(GTRACE_EV_PYTHON.rawValue) | 1 << UInt8(GTRACE_EV_FLAG_SHIFT))
            w.varint(delta)
            w.varint(lock)
            encodeFrames(frames, into: &w)
        }
    }

    private static func encodeFrames(_ frames: PythonStack, into w: inout EventBytes) {
        w.varint(frames.count)
        for f in frames {
            w.varint(f.code.map { UInt64($0) + 1 } ?? 0)
            w.varint(UInt64(f.line))
        }
    }

    /// Decodes one event; `lockCount`/`threadCount`/`stringCount` bound the ids.
    static func decode(_ r: inout ByteReader, limits: Limits) throws -> (delta: UInt64, kind: EventKind) {
        let opcode = try r.byte()
        let flags = LockFlags(rawValue: opcode >> UInt8(GTRACE_EV_FLAG_SHIFT))
        let code = UInt32(opcode & UInt8(GTRACE_EV_OP_MASK))
        let delta = try r.varint()
        func lock() throws -> Int { try r.count(limit: limits.locks - 1, "lock id") }
        func int32() throws -> Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: try r.varint())) }
        let kind: EventKind
        switch code {
        case GTRACE_EV_PROCESS_START.rawValue: kind = .processStart
        case GTRACE_EV_PROCESS_EXIT.rawValue:
            let exitKind = ExitKind(rawValue: UInt8(truncatingIfNeeded: try r.varint())) ?? .unknown
            kind = .processExit(kind: exitKind, status: try int32())
        case GTRACE_EV_THREAD_START.rawValue:
            let creator = try r.count(limit: limits.threads, "creator thread")
            kind = .threadStart(creator: creator == 0 ? nil : creator - 1)
        case GTRACE_EV_THREAD_END.rawValue:
            let endKind = ThreadEndKind(rawValue: UInt8(truncatingIfNeeded: try r.varint())) ?? .unknown
            kind = .threadEnd(kind: endKind, cpuNanoseconds: try r.varint())
        case GTRACE_EV_THREAD_NAME.rawValue:
            kind = .threadName(string: try r.count(limit: limits.strings - 1, "string id"))
        case GTRACE_EV_FORK.rawValue: kind = .fork(childPid: try int32())
        case GTRACE_EV_EXEC.rawValue: kind = .exec
        case GTRACE_EV_BLOCK_BEGIN.rawValue:
            let call = BlockingCall(rawValue: UInt8(truncatingIfNeeded: try r.varint()))
            kind = .blockBegin(call: call, small: UInt32(truncatingIfNeeded: try r.varint()), argument: try r.varint())
        case GTRACE_EV_BLOCK_END.rawValue:
            let call = BlockingCall(rawValue: UInt8(truncatingIfNeeded: try r.varint()))
            kind = .blockEnd(call: call, result: try int32(), detail: try r.varint())
        case GTRACE_EV_CPU_IN.rawValue: kind = .cpuIn(cpu: try r.count(limit: 1 << 20, "cpu"))
        case GTRACE_EV_CPU_OUT.rawValue:
            kind = .cpuOut(cpu: try r.count(limit: 1 << 20, "cpu"), preempted: flags.rawValue & 1 != 0)
        case GTRACE_EV_WAKER.rawValue:
            let what = WakerKind(rawValue: UInt8(truncatingIfNeeded: try r.varint()))
            kind = .waker(kind: what, object: try r.varint(), value: try r.varint())
        case GTRACE_EV_LOCK_ACQUIRE.rawValue: kind = .lockAcquire(lock: try lock(), flags: flags)
        case GTRACE_EV_LOCK_WAIT.rawValue: kind = .lockWait(lock: try lock(), flags: flags)
        case GTRACE_EV_LOCK_ACQUIRED.rawValue: kind = .lockAcquired(lock: try lock(), flags: flags)
        case GTRACE_EV_LOCK_FAILED.rawValue: kind = .lockFailed(lock: try lock(), flags: flags, error: try int32())
        case GTRACE_EV_LOCK_RELEASE.rawValue: kind = .lockRelease(lock: try lock(), flags: flags)
        case GTRACE_EV_LOCK_TRY_FAILED.rawValue: kind = .lockTryFailed(lock: try lock(), flags: flags)
        case GTRACE_EV_COND_WAIT.rawValue: kind = .conditionWait(condition: try lock(), mutex: try lock())
        case GTRACE_EV_COND_WOKE.rawValue:
            kind = .conditionWoke(condition: try lock(), mutex: try lock(), result: try int32())
        case GTRACE_EV_PYTHON.rawValue:
            let sampled = flags.rawValue & 1 != 0
            let gil = sampled ? try lock() : 0
            let count = try r.count(limit: 64, "Python frame count")
            var frames = PythonStack()
            for _ in 0..<count {  // the frames past PythonStack.capacity are read and dropped
                let code = try r.count(limit: limits.pythonCodes, "Python code id")
                let line = UInt32(truncatingIfNeeded: try r.count(limit: Int(UInt32.max), "Python line"))
                frames.append(PythonFrame(code: code == 0 ? nil : code - 1, line: line))
            }
            kind = sampled ? .pythonSample(lock: gil, frames: frames) : .pythonLocation(frames: frames)
        case GTRACE_EV_FUTEX_WOKE.rawValue: kind = .futexWoke(lock: try lock(), result: try int32())
        case GTRACE_EV_FUTEX_WAKE.rawValue: kind = .futexWake(lock: try lock(), result: try int32())
        default:
            // Events have no length of their own, so an unknown opcode ends the block.
            throw DecodeError(reason: "unknown event opcode \(code)")
        }
        return (delta, kind)
    }

    struct Limits {
        var locks: Int
        var threads: Int
        var strings: Int
        var pythonCodes: Int = 0
    }
}
