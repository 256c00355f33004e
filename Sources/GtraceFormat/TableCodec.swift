import CGtraceFormat

/// Encodes and decodes the table records (INFO, CLOCK, STRING, PROCESS, THREAD,
/// LOCK, END). Every field is a varint; optional values are stored +1 (0 = none).
/// Readers ignore bytes after the fields they know, so fields can be appended.
enum TableCodec {
    static func optional(_ value: Int?) -> UInt64 { value.map { UInt64($0) + 1 } ?? 0 }
    static func optional(_ value: UInt64?) -> UInt64 { value.map { $0 + 1 } ?? 0 }

    static func encodeInfo(_ info: RunInfo) -> [UInt8] {
        var w = ByteWriter()
        w.varint(info.values.count)
        for (key, value) in info.values { w.string(key); w.string(value) }
        return w.bytes
    }

    static func decodeInfo(_ r: inout ByteReader) throws -> RunInfo {
        let count = try r.count(limit: r.remaining, "info entry count")
        var info = RunInfo()
        for _ in 0..<count { info.values.append((try r.string(), try r.string())) }
        return info
    }

    static func encodeClock(_ clock: ClockInfo) -> [UInt8] {
        var w = ByteWriter()
        w.varint(clock.epochMonotonicNanoseconds)
        w.varint(clock.epochRealtimeNanoseconds)
        w.varint(clock.ticksPerNanosecond.bitPattern)
        w.varint(clock.maxResidualNanoseconds)
        w.varint(clock.recordingEndNanoseconds)
        return w.bytes
    }

    static func decodeClock(_ r: inout ByteReader) throws -> ClockInfo {
        ClockInfo(epochMonotonicNanoseconds: try r.varint(), epochRealtimeNanoseconds: try r.varint(),
                  ticksPerNanosecond: Double(bitPattern: try r.varint()), maxResidualNanoseconds: try r.varint(),
                  recordingEndNanoseconds: try r.varint())
    }

    static func encodeString(id: Int, _ value: String) -> [UInt8] {
        var w = ByteWriter()
        w.varint(id)
        w.string(value)
        return w.bytes
    }

    /// Process records refer to strings by id; `intern` assigns them.
    static func encodeProcess(_ p: ProcessInfo, intern: (String) -> Int) -> [UInt8] {
        var w = ByteWriter()
        w.varint(p.index)
        w.varint(UInt64(UInt32(bitPattern: p.pid)))
        w.varint(UInt64(UInt32(bitPattern: p.ppid)))
        w.varint(optional(p.parent))
        w.varint(p.image)
        w.varint(intern(p.executable))
        w.varint(p.arguments.count)
        for argument in p.arguments { w.varint(intern(argument)) }
        w.varint(p.startNanoseconds)
        w.varint(optional(p.endNanoseconds))
        w.varint(UInt64(p.exitKind.rawValue))
        w.varint(UInt64(UInt32(bitPattern: p.exitStatus)))
        w.varint(p.userCPUNanoseconds)
        w.varint(p.systemCPUNanoseconds)
        w.varint(p.instrumented ? 0 : 1)  // process flags: bit 0 = not instrumented
        return w.bytes
    }

    static func decodeProcess(_ r: inout ByteReader, strings: [String], index: Int) throws -> ProcessInfo {
        func string() throws -> String { strings[try r.count(limit: strings.count - 1, "string id")] }
        func int32() throws -> Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: try r.varint())) }
        let recordIndex = try r.varint()
        guard recordIndex == UInt64(index) else { throw DecodeError(reason: "process index \(recordIndex), expected \(index)") }
        let pid = try int32(), ppid = try int32()
        // A parent may come later in the table (writers before 0.1.1 appended
        // uninstrumented parents last): TraceFile checks the range once all are read.
        let parent = try r.count(limit: Int(Int32.max), "parent process")
        let image = try r.count(limit: Int(Int32.max), "image number")
        let executable = try string()
        let argc = try r.count(limit: r.remaining, "argument count")
        var arguments: [String] = []
        for _ in 0..<argc { arguments.append(try string()) }
        let start = try r.nanoseconds("process start")
        let end = try r.nanoseconds("process end", optional: true)
        let exitKind = ExitKind(rawValue: UInt8(truncatingIfNeeded: try r.varint())) ?? .unknown
        let status = try int32()
        let user = try r.nanoseconds("process user CPU"), system = try r.nanoseconds("process system CPU")
        let flags = r.remaining > 0 ? try r.varint() : 0
        guard end == 0 || end - 1 >= start else { throw DecodeError(reason: "process ends (\(end - 1) ns) before it starts (\(start) ns)") }
        return ProcessInfo(index: index, pid: pid, ppid: ppid, parent: parent == 0 ? nil : parent - 1, image: image,
                           executable: executable, arguments: arguments, startNanoseconds: start,
                           endNanoseconds: end == 0 ? nil : end - 1, exitKind: exitKind, exitStatus: status,
                           userCPUNanoseconds: user, systemCPUNanoseconds: system, instrumented: flags & 1 == 0)
    }

    static func encodeThread(_ t: ThreadInfo, intern: (String) -> Int) -> [UInt8] {
        var w = ByteWriter()
        w.varint(t.index)
        w.varint(t.process)
        w.varint(UInt64(UInt32(bitPattern: t.tid)))
        w.varint(intern(t.name))
        w.varint(optional(t.creator))
        w.varint(t.startNanoseconds)
        w.varint(optional(t.endNanoseconds))
        w.varint(UInt64(t.endKind.rawValue))
        w.varint(optional(t.cpuNanoseconds))
        return w.bytes
    }

    static func decodeThread(_ r: inout ByteReader, strings: [String], processCount: Int, index: Int) throws -> ThreadInfo {
        let recordIndex = try r.varint()
        guard recordIndex == UInt64(index) else { throw DecodeError(reason: "thread index \(recordIndex), expected \(index)") }
        let process = try r.count(limit: processCount - 1, "process index")
        let tid = Int32(bitPattern: UInt32(truncatingIfNeeded: try r.varint()))
        let name = strings[try r.count(limit: strings.count - 1, "string id")]
        let creator = try r.count(limit: Int(Int32.max), "creator thread")
        let start = try r.nanoseconds("thread start")
        let end = try r.nanoseconds("thread end", optional: true)
        let endKind = ThreadEndKind(rawValue: UInt8(truncatingIfNeeded: try r.varint())) ?? .unknown
        let cpu = try r.nanoseconds("thread CPU", optional: true)
        guard end == 0 || end - 1 >= start else { throw DecodeError(reason: "thread ends (\(end - 1) ns) before it starts (\(start) ns)") }
        return ThreadInfo(index: index, process: process, tid: tid, name: name, creator: creator == 0 ? nil : creator - 1,
                          startNanoseconds: start, endNanoseconds: end == 0 ? nil : end - 1, endKind: endKind,
                          cpuNanoseconds: cpu == 0 ? nil : cpu - 1)
    }

    static func encodeLock(_ l: LockInfo) -> [UInt8] {
        var w = ByteWriter()
        w.varint(l.index)
        w.varint(l.process)
        w.varint(l.address)
        w.varint(UInt64(l.kind.rawValue))
        return w.bytes
    }

    static func decodeLock(_ r: inout ByteReader, processCount: Int, index: Int) throws -> LockInfo {
        let recordIndex = try r.varint()
        guard recordIndex == UInt64(index) else { throw DecodeError(reason: "lock index \(recordIndex), expected \(index)") }
        let process = try r.count(limit: processCount - 1, "process index")
        let address = try r.varint()
        let kind = LockKind(rawValue: UInt8(truncatingIfNeeded: try r.varint())) ?? .mutex
        return LockInfo(index: index, process: process, address: address, kind: kind)
    }

    static func encodeGIL(_ g: GILInfo) -> [UInt8] {
        var w = ByteWriter()
        w.varint(g.process)
        w.varint(optional(g.lock))
        w.varint(UInt64(g.versionHex))
        w.varint(UInt64(g.status.rawValue))
        w.varint(g.address)
        w.varint(g.runtimeAddress)
        w.varint(optional(g.switchNumber))
        w.varint(optional(g.intervalMicroseconds))
        w.varint(optional(g.inheritedSwitchNumber))
        w.varint(optional(g.sameThreadSwitches))
        w.varint(optional(g.reusedThreadStates))
        return w.bytes
    }

    static func decodeGIL(_ r: inout ByteReader, processCount: Int, lockCount: Int) throws -> GILInfo {
        let process = try r.count(limit: processCount - 1, "process index")
        let lock = try r.count(limit: lockCount, "GIL lock id")
        let version = UInt32(truncatingIfNeeded: try r.varint())
        let status = GILStatus(rawValue: UInt32(truncatingIfNeeded: try r.varint()))
        let address = try r.varint()
        let runtime = try r.varint()
        let switches = try r.varint()
        let interval = try r.varint()
        // CPython's switch interval in µs (default 5000); beyond 2^32 µs (71 minutes) it is not one.
        guard interval <= 1 << 32 else { throw DecodeError(reason: "GIL switch interval \(interval) µs is impossible") }
        let inherited = r.isAtEnd ? 0 : try r.varint()
        let sameThread = r.isAtEnd ? 0 : try r.varint()  // these two: absent before 2026-12-03 (session 6)
        let reused = r.isAtEnd ? 0 : try r.varint()
        return GILInfo(process: process, lock: lock == 0 ? nil : lock - 1, versionHex: version, status: status,
                       address: address, runtimeAddress: runtime, switchNumber: switches == 0 ? nil : switches - 1,
                       intervalMicroseconds: interval == 0 ? nil : interval - 1,
                       inheritedSwitchNumber: inherited == 0 ? nil : inherited - 1,
                       sameThreadSwitches: sameThread == 0 ? nil : sameThread - 1,
                       reusedThreadStates: reused == 0 ? nil : reused - 1)
    }

    /// SYMBOL records: kind 0 = a lock's name, kind 1 = a call site's totals.
    static func encodeLockName(_ n: LockName) -> [UInt8] {
        var w = ByteWriter()
        w.varint(0)
        w.varint(n.lock)
        w.string(n.name)
        return w.bytes
    }

    static func encodeCallSite(_ c: CallSite) -> [UInt8] {
        var w = ByteWriter()
        w.varint(1)
        w.varint(c.lock)
        w.string(c.site)
        w.varint(c.acquisitions)
        w.varint(c.waits)
        w.varint(c.waitNanoseconds)
        return w.bytes
    }

    static func decodeSymbol(_ r: inout ByteReader, lockCount: Int, into tables: inout TraceTables) throws {
        let kind = try r.varint()
        let lock = try r.count(limit: lockCount - 1, "lock id")
        let text = try r.string()
        switch kind {
        case 0: tables.lockNames.append(LockName(lock: lock, name: text))
        case 1:
            let acquisitions = try r.count(limit: Int(Int32.max), "acquisitions")
            let waits = try r.count(limit: Int(Int32.max), "waits")
            tables.callSites.append(CallSite(lock: lock, site: text, acquisitions: acquisitions, waits: waits, waitNanoseconds: try r.varint()))
        default: break  // a later kind: skipped
        }
    }

    /// PYTHON records: kind 0 = a code object (index, process, address,
    /// first line, qualified name, file). Later kinds are skipped.
    static func encodePythonCode(_ c: PythonCode) -> [UInt8] {
        var w = ByteWriter()
        w.varint(0)
        w.varint(c.index)
        w.varint(c.process)
        w.varint(c.address)
        w.varint(UInt64(c.firstLine))
        w.string(c.qualifiedName)
        w.string(c.file)
        return w.bytes
    }

    static func decodePython(_ r: inout ByteReader, processCount: Int, into tables: inout TraceTables) throws {
        guard try r.varint() == 0 else { return }
        let index = try r.varint()
        guard index == UInt64(tables.pythonCodes.count) else {
            throw DecodeError(reason: "Python code index \(index), expected \(tables.pythonCodes.count)")
        }
        let process = try r.count(limit: processCount - 1, "process index")
        let address = try r.varint()
        let firstLine = UInt32(truncatingIfNeeded: try r.count(limit: Int(UInt32.max), "first line"))
        let name = try r.string(), file = try r.string()
        tables.pythonCodes.append(PythonCode(index: Int(index), process: process, address: address, qualifiedName: name,
                                             file: file, firstLine: firstLine))
    }
}
