import Foundation
import GtraceAnalysis
import GtraceFormat
import SwiftProtobuf

/// Writes a native Perfetto trace (protobuf `Trace`: a stream of
/// `TracePacket`s, docs/EXPORT.md) in one streaming pass: the serializer of
/// the shared `TrackModel`, as the Chrome JSON writer is.
///
/// - Processes and threads are `TrackDescriptor`s (plus one `ProcessTree`
///   with the parent pids); the extra tracks (lock lanes, CPU, blocked,
///   process marks) are child tracks of their thread's track, the GIL track
///   and the counters child tracks of their process's track.
/// - Slices are `TrackEvent` begin/end pairs, lifecycle marks instants,
///   counters `TYPE_COUNTER` events; names, categories and argument names are
///   interned (one sequence), so a long lock name costs its bytes once.
/// - Flows (GIL hand-offs, fork → child) are `flow_ids` on the two slices:
///   the last two slices of a GIL or process-mark track wait for the arrow
///   that may still come, so memory stays constant.
/// - Thread states come from synthesised ftrace `sched_switch` events (one
///   bundle per CPU, flushed every 256 events) with the idle task as the
///   other side, and `sched_waking` events whose waker is the thread whose
///   lock or GIL release let the sleeping thread acquire.
public final class PerfettoTraceWriter {
    private let file: TraceFile
    private let output: FileOutput
    private let filter: ChromeExportFilter
    private var sink: PerfettoSink?

    public init(file: TraceFile, output: FileOutput, filter: ChromeExportFilter = .everything) {
        self.file = file
        self.output = output
        self.filter = filter
    }

    /// What was written (valid after `write`).
    public struct Counts: Sendable, Equatable {
        public var packets = 0
        /// Slices (begin/end pairs) and instants: the rows of the trace processor's `slice` table.
        public var slices = 0
        public var instants = 0
        public var flows = 0
        public var counterValues = 0
        public var schedSwitches = 0
        public var wakings = 0
        /// Model events: slices, instants, flows, counter values, switches and wakings.
        public var events: Int { slices + instants + flows + counterValues + schedSwitches + wakings }
    }

    public var counts: Counts { sink?.counts ?? Counts() }

    /// Writes the whole trace and returns the warnings met while reading.
    public func write() throws -> [String] {
        let sink = PerfettoSink(tables: file.tables, output: output)
        self.sink = sink
        try sink.begin()
        let model = TrackModel(file: file, sink: sink, filter: filter)
        let warnings = try model.run()
        try sink.finish()
        try output.flush()
        return warnings
    }
}

/// The protobuf encoding of the track model.
final class PerfettoSink: TrackSink {
    private typealias Packet = Perfetto_Protos_TracePacket
    private typealias Event = Perfetto_Protos_TrackEvent

    private let tables: TraceTables
    private let output: FileOutput
    private var buffer: [UInt8] = []
    private static let flushBytes = 1 << 20
    private(set) var counts = PerfettoTraceWriter.Counts()
    private static let sequence: UInt32 = 1
    private var firstOnSequence = true

    // Interning (one sequence): new entries ride on the next packet written.
    private var names: [String: UInt64] = [:]
    private var lockNames: [LockNameKey: UInt64] = [:]
    private var categories: [String: UInt64] = [:]
    private var argumentNames: [String: UInt64] = [:]
    private var newInterned = Perfetto_Protos_InternedData()
    private var hasNewInterned = false

    private struct LockNameKey: Hashable {
        var prefix: UnsafeRawPointer
        var lock: Int
        var labelled: Bool
    }

    /// Slices of GIL and process-mark tracks not yet written: a flow may still attach to them.
    private struct PendingSlice {
        var begin: Packet
        var end: Packet
        var start: UInt64
        var finish: UInt64
    }
    private var pending: [UInt64: [PendingSlice]] = [:]
    private static let pendingPerTrack = 2

    /// Per CPU: the sched events not yet written.
    private var bundles: [Int: Perfetto_Protos_FtraceEventBundle] = [:]
    private static let bundleEvents = 256
    private var declaredCounters: Set<UInt64> = []
    private var declaredProcesses: Set<Int32> = []

    init(tables: TraceTables, output: FileOutput) {
        self.tables = tables
        self.output = output
        buffer.reserveCapacity(Self.flushBytes + 65536)
    }

    // MARK: Track identities

    /// Track uuids are small numbers given in order of first use (1, 2, …): a
    /// one- or two-byte varint on every event.
    private var uuids: [TrackKey: UInt64] = [:]

    private enum TrackKey: Hashable {
        case process(Int32)
        case track(Int32, Int64)
        case counter(Int32, String)
    }

    private func uuid(_ key: TrackKey) -> UInt64 {
        if let known = uuids[key] { return known }
        let next = UInt64(uuids.count + 1)
        uuids[key] = next
        return next
    }

    private func processUUID(_ pid: Int32) -> UInt64 { uuid(.process(pid)) }
    private func trackUUID(_ track: TrackRef) -> UInt64 { uuid(.track(track.pid, track.id)) }
    private func threadUUID(pid: Int32, tid: Int32) -> UInt64 { uuid(.track(pid, Int64(tid))) }
    private func counterUUID(pid: Int32, name: String) -> UInt64 { uuid(.counter(pid, name)) }

    // MARK: Output

    private func write(_ packet: inout Packet, onSequence: Bool = true) throws {
        if onSequence {
            packet.trustedPacketSequenceID = Self.sequence
            if firstOnSequence {
                packet.sequenceFlags = 1  // SEQ_INCREMENTAL_STATE_CLEARED
                packet.firstPacketOnSequence = true
                firstOnSequence = false
            }
            // Later packets leave out SEQ_NEEDS_INCREMENTAL_STATE (2 bytes each): it only
            // tells a reader to skip packets after a loss, and a file has none.
            if hasNewInterned {
                packet.internedData = newInterned
                newInterned = Perfetto_Protos_InternedData()
                hasNewInterned = false
            }
        }
        let bytes: [UInt8] = try packet.serializedBytes()
        buffer.append(0x0A)  // Trace.packet, length-delimited
        var length = UInt64(bytes.count)
        while length >= 0x80 {
            buffer.append(UInt8(length & 0x7f) | 0x80)
            length >>= 7
        }
        buffer.append(UInt8(length))
        buffer.append(contentsOf: bytes)
        counts.packets += 1
        if buffer.count >= Self.flushBytes { try flush() }
    }

    private func flush() throws {
        try output.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    // MARK: Interning

    /// The iid of `text` in one of the interning tables (0 names, 1 categories, 2 argument names).
    private func intern(_ text: String, in table: inout [String: UInt64], kind: Int) -> UInt64 {
        if let iid = table[text] { return iid }
        let iid = UInt64(table.count + 1)
        table[text] = iid
        switch kind {
        case 1:
            var entry = Perfetto_Protos_EventCategory()
            entry.iid = iid
            entry.name = text
            newInterned.eventCategories.append(entry)
        case 2:
            var entry = Perfetto_Protos_DebugAnnotationName()
            entry.iid = iid
            entry.name = text
            newInterned.debugAnnotationNames.append(entry)
        default:
            var entry = Perfetto_Protos_EventName()
            entry.iid = iid
            entry.name = text
            newInterned.eventNames.append(entry)
        }
        hasNewInterned = true
        return iid
    }

    private func nameID(_ name: String) -> UInt64 { intern(name, in: &names, kind: 0) }
    private func categoryID(_ category: StaticString) -> UInt64 { intern(Self.text(category), in: &categories, kind: 1) }
    private func argumentID(_ key: StaticString) -> UInt64 { intern(Self.text(key), in: &argumentNames, kind: 2) }

    private static func text(_ s: StaticString) -> String { s.withUTF8Buffer { String(decoding: $0, as: UTF8.self) } }

    private lazy var namedLocks = Set(tables.lockNames.map(\.lock))
    private func hasSymbolName(_ lock: Int) -> Bool { namedLocks.contains(lock) }

    private func lockLabel(_ lock: Int) -> String {
        tables.lockNames.first(where: { $0.lock == lock })?.name ?? tables.locks[lock].addressText
    }

    private func threadName(_ thread: Int) -> String {
        let t = tables.threads[thread]
        return t.name.isEmpty ? "thread \(t.tid)" : t.name
    }

    /// Interned annotation values: the Python locations, each written once.
    private var stringValues: [[UInt8]: UInt64] = [:]

    /// A Python location (JSON string contents, as the JSON writer gets it) as an interned string argument.
    private func pythonLocation(_ key: StaticString, _ escaped: [UInt8]) -> Perfetto_Protos_DebugAnnotation {
        var a = Perfetto_Protos_DebugAnnotation()
        a.nameIid = argumentID(key)
        if let iid = stringValues[escaped] {
            a.stringValueIid = iid
            return a
        }
        let iid = UInt64(stringValues.count + 1)
        stringValues[escaped] = iid
        let text = (try? JSONDecoder().decode(String.self, from: Data([0x22] + escaped + [0x22]))) ?? String(decoding: escaped, as: UTF8.self)
        var entry = Perfetto_Protos_InternedString()
        entry.iid = iid
        entry.str = Data(text.utf8)
        newInterned.debugAnnotationStringValues.append(entry)
        hasNewInterned = true
        a.stringValueIid = iid
        return a
    }

    private func annotations(_ args: [TrackArg]) -> [Perfetto_Protos_DebugAnnotation] {
        args.map { arg in
            var a = Perfetto_Protos_DebugAnnotation()
            a.nameIid = argumentID(arg.key)
            switch arg.value {
            case let .int(v): a.intValue = v
            case let .string(s): a.stringValue = s
            case let .bool(b): a.boolValue = b
            }
            return a
        }
    }

    // MARK: Sink

    func begin() throws {
        // Processes with their parents, threads with their process: the trace processor's process tree.
        var tree = Perfetto_Protos_ProcessTree()
        var seen: Set<Int32> = []
        let traced = Set(tables.processes.map(\.pid))
        for p in tables.processes where seen.insert(p.pid).inserted {
            var entry = Perfetto_Protos_ProcessTree.Process()
            entry.pid = p.pid
            // A parent outside the trace (the shell) would show as an empty process.
            if traced.contains(p.ppid) { entry.ppid = p.ppid }
            entry.cmdline = [p.executable] + p.arguments.dropFirst()
            tree.processes.append(entry)
        }
        for t in tables.threads {
            var entry = Perfetto_Protos_ProcessTree.Thread()
            entry.tid = t.tid
            entry.tgid = tables.processes[t.process].pid
            entry.name = threadName(t.index)
            tree.threads.append(entry)
        }
        var packet = Packet()
        packet.timestamp = 0
        packet.processTree = tree
        try write(&packet, onSequence: false)
    }

    func finish() throws {
        for (cpu, waiting) in deferredIn.sorted(by: { $0.key < $1.key }) {
            try schedSwitch(cpu: cpu, time: waiting.time, prev: running[cpu] ?? 0, state: 0, next: waiting.tid)
        }
        deferredIn.removeAll()
        for uuid in pending.keys.sorted() {
            for slice in pending[uuid] ?? [] { try writeSlice(slice) }
        }
        pending.removeAll()
        for cpu in bundles.keys.sorted() { try flushBundle(cpu) }
        try flush()
    }

    func process(_ p: GtraceFormat.ProcessInfo, name: String, sortIndex: Int) throws {
        declaredProcesses.insert(p.pid)
        var descriptor = Perfetto_Protos_TrackDescriptor()
        descriptor.uuid = processUUID(p.pid)
        descriptor.process.pid = p.pid
        descriptor.process.processName = name
        descriptor.process.legacySortIndex = Int32(clamping: sortIndex)
        var packet = Packet()
        packet.trackDescriptor = descriptor
        try write(&packet)
    }

    func track(_ track: TrackRef, name: String, sortIndex: Int?) throws {
        if track.kind == .cpu { return }  // see slice(_:…)
        var descriptor = Perfetto_Protos_TrackDescriptor()
        descriptor.uuid = trackUUID(track)
        switch track.kind {
        case .thread:
            descriptor.thread.pid = track.pid
            descriptor.thread.tid = Int32(truncatingIfNeeded: track.id)
            descriptor.thread.threadName = name
            if let sortIndex { descriptor.thread.legacySortIndex = Int32(clamping: sortIndex) }
        case .gil:
            descriptor.parentUuid = processUUID(track.pid)
            descriptor.name = name
        case .lockLane, .cpu, .blocked, .process:
            descriptor.parentUuid = threadUUID(pid: track.pid, tid: tables.threads[track.thread].tid)
            descriptor.name = name
        }
        var packet = Packet()
        packet.trackDescriptor = descriptor
        try write(&packet)
    }

    func instant(_ track: TrackRef, time: UInt64, name: String, processScope: Bool, args: [TrackArg]) throws {
        var event = Event()
        event.type = .instant
        event.trackUuid = processScope && declaredProcesses.contains(track.pid) ? processUUID(track.pid) : trackUUID(track)
        event.nameIid = nameID(name)
        event.categoryIids = [intern("lifecycle", in: &categories, kind: 1)]
        if !args.isEmpty { event.debugAnnotations = annotations(args) }
        var packet = Packet()
        packet.timestamp = time
        packet.trackEvent = event
        counts.instants += 1
        try write(&packet)
    }

    private func addSlice(_ track: TrackRef, start: UInt64, end: UInt64, begin event: Event,
                          endCounter: (uuid: UInt64, value: Int)? = nil) throws {
        let uuid = event.trackUuid
        var beginPacket = Packet()
        beginPacket.timestamp = start
        beginPacket.trackEvent = event
        var endEvent = Event()
        endEvent.type = .sliceEnd
        endEvent.trackUuid = uuid
        if let endCounter {
            endEvent.extraCounterTrackUuids = [endCounter.uuid]
            endEvent.extraCounterValues = [Int64(endCounter.value)]
        }
        var endPacket = Packet()
        endPacket.timestamp = end
        endPacket.trackEvent = endEvent
        counts.slices += 1
        let slice = PendingSlice(begin: beginPacket, end: endPacket, start: start, finish: end)
        switch track.kind {
        case .gil, .process:
            var list = pending[uuid] ?? []
            list.append(slice)
            if list.count > Self.pendingPerTrack { try writeSlice(list.removeFirst()) }
            pending[uuid] = list
        default:
            try writeSlice(slice)
        }
    }

    private func writeSlice(_ slice: PendingSlice) throws {
        var begin = slice.begin, end = slice.end
        try write(&begin)
        try write(&end)
    }

    func slice(_ track: TrackRef, start: UInt64, end: UInt64, name: String, category: StaticString, args: [TrackArg]) throws {
        // The CPU track's on-CPU and runnable slices are the thread states here
        // (Running on CPU n, Runnable), from the sched events: not written twice.
        if track.kind == .cpu { return }
        var event = Event()
        event.type = .sliceBegin
        event.trackUuid = trackUUID(track)
        event.nameIid = nameID(name)
        event.categoryIids = [categoryID(category)]
        event.debugAnnotations = annotations(args.filter { Self.text($0.key) != "duration_ns" })
        try addSlice(track, start: start, end: end, begin: event)
    }

    func lockSlice(_ track: TrackRef, start: UInt64, end: UInt64, interval: LockInterval,
                   prefix: StaticString, category: StaticString, labelled: Bool, counter: (start: Int?, end: Int?)?,
                   askedAt: [UInt8]?) throws {
        let key = LockNameKey(prefix: UnsafeRawPointer(prefix.utf8Start), lock: interval.lock, labelled: labelled)
        let nameIid: UInt64
        if let cached = lockNames[key] {
            nameIid = cached
        } else {
            nameIid = nameID(Self.text(prefix) + (labelled ? lockLabel(interval.lock) : ""))
            lockNames[key] = nameIid
        }
        var event = Event()
        event.type = .sliceBegin
        event.trackUuid = trackUUID(track)
        event.nameIid = nameIid
        event.categoryIids = [categoryID(category)]
        if labelled && hasSymbolName(interval.lock) {
            // The name holds the lock's symbol: its address goes alongside (else the name is the address).
            var lock = Perfetto_Protos_DebugAnnotation()
            lock.nameIid = argumentID("lock")
            lock.pointerValue = tables.locks[interval.lock].address
            event.debugAnnotations = [lock]
        }
        if let askedAt { event.debugAnnotations.append(pythonLocation("python_asked_at", askedAt)) }
        if interval.closedByEnd {
            var open = Perfetto_Protos_DebugAnnotation()
            open.nameIid = argumentID("open_at_end")
            open.boolValue = true
            event.debugAnnotations.append(open)
        }
        var endValue: (uuid: UInt64, value: Int)?
        if let counter {
            let uuid = try counterTrack(pid: track.pid, name: "threads waiting for the GIL")
            if let value = counter.start {
                event.extraCounterTrackUuids = [uuid]
                event.extraCounterValues = [Int64(value)]
                counts.counterValues += 1
            }
            if let value = counter.end {
                endValue = (uuid, value)
                counts.counterValues += 1
            }
        }
        try addSlice(track, start: start, end: end, begin: event, endCounter: endValue)
    }

    func gilHold(_ track: TrackRef, start: UInt64, end: UInt64, thread: Int, acquiredAt: [UInt8]?, releasedAt: [UInt8]?) throws {
        var event = Event()
        event.type = .sliceBegin
        event.trackUuid = trackUUID(track)
        event.nameIid = nameID(threadName(thread))
        event.categoryIids = [categoryID("gil")]
        var tid = Perfetto_Protos_DebugAnnotation()
        tid.nameIid = argumentID("tid")
        tid.intValue = Int64(tables.threads[thread].tid)
        event.debugAnnotations = [tid]
        if let acquiredAt { event.debugAnnotations.append(pythonLocation("python_acquired_at", acquiredAt)) }
        if let releasedAt { event.debugAnnotations.append(pythonLocation("python_released_at", releasedAt)) }
        try addSlice(track, start: start, end: end, begin: event)
    }

    func flow(id: Int, name: StaticString, category: StaticString, from: TrackRef, at fromTime: UInt64,
              to: TrackRef, at toTime: UInt64) throws {
        let fromUUID = trackUUID(from), toUUID = trackUUID(to)
        guard let source = pending[fromUUID]?.lastIndex(where: { $0.start <= fromTime && fromTime <= $0.finish }),
              let target = pending[toUUID]?.lastIndex(where: { $0.start <= toTime && toTime <= $0.finish }),
              fromUUID != toUUID || source != target else { return }
        pending[fromUUID]![source].begin.trackEvent.flowIds.append(UInt64(id))
        pending[toUUID]![target].begin.trackEvent.terminatingFlowIds.append(UInt64(id))
        // The trace processor orders events of equal time arbitrarily: a target
        // that begins with its source (a child started "at" its fork) moves 1 ns later.
        let sourceStart = pending[fromUUID]![source].start
        if pending[toUUID]![target].start <= sourceStart {
            pending[toUUID]![target].start = sourceStart + 1
            pending[toUUID]![target].begin.timestamp = sourceStart + 1
            if pending[toUUID]![target].finish < sourceStart + 1 {
                pending[toUUID]![target].finish = sourceStart + 1
                pending[toUUID]![target].end.timestamp = sourceStart + 1
            }
        }
        counts.flows += 1
    }

    func counter(pid: Int32, name: StaticString, key: StaticString, time: UInt64, value: Int, onSlice: Bool) throws {
        let text = Self.text(name)
        let uuid = try counterTrack(pid: pid, name: text)
        // Stored with the slice instead, as its extra counter value: no packet of its own.
        if onSlice { return }
        var event = Event()
        event.type = .counter
        event.trackUuid = uuid
        event.counterValue = Int64(value)
        var packet = Packet()
        packet.timestamp = time
        packet.trackEvent = event
        counts.counterValues += 1
        try write(&packet)  // track events off the sequence are dropped by the trace processor
    }

    private func counterTrack(pid: Int32, name text: String) throws -> UInt64 {
        let uuid = counterUUID(pid: pid, name: text)
        if declaredCounters.insert(uuid).inserted {
            var descriptor = Perfetto_Protos_TrackDescriptor()
            descriptor.uuid = uuid
            if declaredProcesses.contains(pid) { descriptor.parentUuid = processUUID(pid) }
            descriptor.name = text
            descriptor.counter.unit = .count
            var packet = Packet()
            packet.trackDescriptor = descriptor
            try write(&packet)
        }
        return uuid
    }

    // MARK: Thread states (ftrace sched events)

    private func append(_ event: Perfetto_Protos_FtraceEvent, cpu: Int) throws {
        bundles[cpu, default: {
            var bundle = Perfetto_Protos_FtraceEventBundle()
            bundle.cpu = UInt32(clamping: cpu)
            return bundle
        }()].event.append(event)
        if bundles[cpu]!.event.count >= Self.bundleEvents { try flushBundle(cpu) }
    }

    private func flushBundle(_ cpu: Int) throws {
        guard let bundle = bundles[cpu], !bundle.event.isEmpty else { return }
        var packet = Packet()
        packet.ftraceEvents = bundle
        bundles[cpu]?.event.removeAll(keepingCapacity: true)
        try write(&packet, onSequence: false)
    }

    /// Per CPU: the thread the synthesised switches last put on it (0: idle), a
    /// switch-in waiting for that thread's switch-out (records of one instant can
    /// come in either order), and the time of the CPU's last event.
    private var running: [Int: Int32] = [:]
    private var deferredIn: [Int: (tid: Int32, time: UInt64)] = [:]
    private var cpuTime: [Int: UInt64] = [:]

    private func schedSwitch(cpu: Int, time: UInt64, prev: Int32, state: Int64, next: Int32) throws {
        let time = max(time, cpuTime[cpu] ?? 0)  // a CPU's events stay in time order
        cpuTime[cpu] = time
        // Zero fields are left out (a reader takes them as 0).
        var event = Perfetto_Protos_FtraceEvent()
        event.timestamp = time
        event.pid = UInt32(bitPattern: prev)
        var change = Perfetto_Protos_SchedSwitchFtraceEvent()
        if prev != 0 { change.prevPid = prev }
        if state != 0 { change.prevState = state }
        if next != 0 { change.nextPid = next }
        event.schedSwitch = change
        running[cpu] = next
        counts.schedSwitches += 1
        try append(event, cpu: cpu)
    }

    func switchOut(thread: Int, cpu: Int, time: UInt64, state: OffCPUState) throws {
        let tid = tables.threads[thread].tid
        let current = running[cpu] ?? 0
        if current != tid {
            // Its switch-in was not seen on this CPU: idle the CPU's current thread (still runnable), then run it briefly.
            if current != 0 { try schedSwitch(cpu: cpu, time: time, prev: current, state: 0, next: 0) }
            try schedSwitch(cpu: cpu, time: time, prev: 0, state: 0, next: tid)
        }
        // Linux task states: 0 runnable (preempted), 1 interruptible sleep, 2 uninterruptible (I/O).
        try schedSwitch(cpu: cpu, time: time, prev: tid, state: state == .runnable ? 0 : state == .io ? 2 : 1, next: 0)
        if state == .io {
            var reason = Perfetto_Protos_FtraceEvent()
            reason.timestamp = cpuTime[cpu] ?? time
            reason.pid = UInt32(bitPattern: tid)
            reason.schedBlockedReason.pid = tid
            reason.schedBlockedReason.ioWait = 1
            try append(reason, cpu: cpu)
        }
        if let waiting = deferredIn.removeValue(forKey: cpu) {
            try schedSwitch(cpu: cpu, time: waiting.time, prev: 0, state: 0, next: waiting.tid)
        }
    }

    func switchIn(thread: Int, cpu: Int, time: UInt64) throws {
        let tid = tables.threads[thread].tid
        if let waiting = deferredIn.removeValue(forKey: cpu) {
            // Two switch-ins with no switch-out between: the first thread was taken off unseen.
            try schedSwitch(cpu: cpu, time: waiting.time, prev: running[cpu] ?? 0, state: 0, next: waiting.tid)
        }
        let current = running[cpu] ?? 0
        if current != 0 && current != tid {
            deferredIn[cpu] = (tid, time)
            return
        }
        if current == tid { return }
        try schedSwitch(cpu: cpu, time: time, prev: 0, state: 0, next: tid)
    }

    func waking(thread: Int, waker: Int, cpu: Int, time: UInt64) throws {
        var event = Perfetto_Protos_FtraceEvent()
        event.timestamp = time
        event.pid = UInt32(bitPattern: tables.threads[waker].tid)
        event.schedWaking.pid = tables.threads[thread].tid
        event.schedWaking.success = 1
        event.schedWaking.targetCpu = Int32(clamping: cpu)
        counts.wakings += 1
        try append(event, cpu: cpu)
    }
}
