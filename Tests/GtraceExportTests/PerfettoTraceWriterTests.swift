import Foundation
import SwiftProtobuf
import Testing
@testable import GtraceAnalysis
@testable import GtraceExport
@testable import GtraceFormat

/// The Perfetto protobuf writer against the Chrome JSON writer: both serialize
/// the one track model, so every slice, instant, flow and counter value of the
/// JSON is in the protobuf (but the CPU track's slices, which are thread
/// states there), and every perf switch is a sched_switch.
@Suite struct PerfettoTraceWriterTests {
    static let samples = ["seed1-threads", "seed3-processes", "seed7-subprocess"]

    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    struct Decoded {
        var trace: Perfetto_Protos_Trace
        var bytes: Int
        var counts: PerfettoTraceWriter.Counts
    }

    func perfetto(_ path: String, filter: ChromeExportFilter = .everything) throws -> Decoded {
        let out = NSTemporaryDirectory() + "gtrace-perfetto-\(UUID().uuidString).pftrace"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let output = try FileOutput(path: out)
        let writer = PerfettoTraceWriter(file: try TraceFile(path: path), output: output, filter: filter)
        _ = try writer.write()
        try output.close()
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        return Decoded(trace: try Perfetto_Protos_Trace(serializedBytes: data), bytes: data.count, counts: writer.counts)
    }

    func chrome(_ path: String) throws -> (events: [[String: Any]], bytes: Int) {
        let out = NSTemporaryDirectory() + "gtrace-perfetto-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let output = try FileOutput(path: out)
        _ = try ChromeTraceWriter(file: try TraceFile(path: path), output: output).write()
        try output.close()
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (root?["traceEvents"] as? [[String: Any]] ?? [], data.count)
    }

    @Test(arguments: samples)
    func sameModelAsTheJSON(name: String) throws {
        let path = "\(Self.packageRoot)/traces/\(name).data"
        let decoded = try perfetto(path)
        let (json, jsonBytes) = try chrome(path)
        let packets = decoded.trace.packet
        #expect(packets.count == decoded.counts.packets)
        let events: [Perfetto_Protos_TrackEvent] = packets.compactMap {
            if case let .trackEvent(e)? = $0.data { return e }
            return nil
        }
        let begins = events.filter { $0.type == Perfetto_Protos_TrackEvent.TypeEnum.sliceBegin }
        let ends = events.filter { $0.type == Perfetto_Protos_TrackEvent.TypeEnum.sliceEnd }
        #expect(begins.count == ends.count)
        // Every JSON slice but the CPU track's (on-CPU/runnable: thread states here).
        let jsonSlices = json.filter { $0["ph"] as? String == "X" }
        let cpuSlices = jsonSlices.filter { ["on-cpu", "runnable"].contains($0["cat"] as? String) }
        #expect(begins.count == jsonSlices.count - cpuSlices.count)
        let instants = events.filter { $0.type == Perfetto_Protos_TrackEvent.TypeEnum.instant }.count
        let jsonInstants = json.filter { $0["ph"] as? String == "i" }.count
        #expect(instants == jsonInstants)
        // Counter values: own packets, or carried by a GIL wait's begin/end.
        let counterPackets = events.filter { $0.type == Perfetto_Protos_TrackEvent.TypeEnum.counter }.count
        let carried: Int = events.reduce(0) { $0 + $1.extraCounterValues.count }
        let jsonCounters = json.filter { $0["ph"] as? String == "C" }.count
        #expect(counterPackets + carried == jsonCounters)
        // Flows by id: each JSON arrow once as a source and once as a target.
        let jsonFlows = json.filter { $0["ph"] as? String == "s" }.count
        let sources: [UInt64] = events.flatMap { $0.flowIds }
        let targets: [UInt64] = events.flatMap { $0.terminatingFlowIds }
        #expect(sources.count == jsonFlows)
        #expect(targets.count == jsonFlows)
        #expect(Set(sources) == Set(targets))
        // Interning: every name and category id is defined once, before use.
        var names: Set<UInt64> = [], categories: Set<UInt64> = []
        for packet in packets {
            for n in packet.internedData.eventNames { #expect(names.insert(n.iid).inserted) }
            for c in packet.internedData.eventCategories { #expect(categories.insert(c.iid).inserted) }
            guard case let .trackEvent(event)? = packet.data else { continue }
            if event.nameIid != 0 { #expect(names.contains(event.nameIid)) }
            for c in event.categoryIids { #expect(categories.contains(c)) }
        }
        // A descriptor for every thread of the trace, and every track used is described.
        let trace = try TraceFile(path: path)
        let descriptors: [Perfetto_Protos_TrackDescriptor] = packets.compactMap {
            if case let .trackDescriptor(d)? = $0.data { return d }
            return nil
        }
        let describedThreads = Set(descriptors.filter { $0.hasThread }.map { $0.thread.tid })
        #expect(describedThreads == Set(trace.tables.threads.map(\.tid)))
        let used = Set(events.map { $0.trackUuid })
        #expect(used.isSubset(of: Set(descriptors.map { $0.uuid })))
        // Each perf switch record is one sched_switch (plus a few to repair a CPU's sequence).
        var switches = 0, cpuRecords = 0
        var stream = trace.events()
        while let e = stream.next() {
            switch e.kind {
            case .cpuIn, .cpuOut: cpuRecords += 1
            default: break
            }
        }
        // Per CPU the synthesised switches form one consistent sequence, as the
        // kernel's would: each switches out the thread the previous one put on
        // the CPU (0: idle), in time order. A switch record whose thread was not
        // on that CPU costs at most two repairs.
        var onCPU: [UInt32: Int32] = [:], lastTime: [UInt32: UInt64] = [:], broken = 0
        for packet in packets {
            guard case let .ftraceEvents(bundle)? = packet.data else { continue }
            for event in bundle.event where event.hasSchedSwitch {
                switches += 1
                let change = event.schedSwitch
                if change.prevPid != onCPU[bundle.cpu] ?? 0 || event.timestamp < lastTime[bundle.cpu] ?? 0 { broken += 1 }
                onCPU[bundle.cpu] = change.nextPid
                lastTime[bundle.cpu] = event.timestamp
            }
        }
        #expect(broken == 0, "\(name): \(broken) sched_switch events do not follow their CPU's previous one")
        #expect(switches >= cpuRecords && switches <= 3 * cpuRecords,
                "\(name): \(switches) sched_switch events for \(cpuRecords) switch records, \(trace.tables.threads.count) threads")
        #expect(switches == decoded.counts.schedSwitches)
        // At most a fifth of the JSON's size.
        #expect(decoded.bytes * 5 <= jsonBytes, "\(decoded.bytes) bytes against \(jsonBytes) of JSON")
    }

    @Test func wakerIsTheThreadThatReleasedTheLock() throws {
        // T1 holds the lock; T2 waits, sleeps (switch out), T1 releases, T2 wakes and acquires.
        var t = TraceTables()
        t.processes = [ProcessInfo(index: 0, pid: 50, ppid: 1, parent: nil, image: 0, executable: "/x", arguments: ["x"],
                                   startNanoseconds: 0, endNanoseconds: 100_000, exitKind: .mainReturn, exitStatus: 0,
                                   userCPUNanoseconds: 0, systemCPUNanoseconds: 0)]
        t.threads = [ThreadInfo(index: 0, process: 0, tid: 50, name: "main", creator: nil, startNanoseconds: 0,
                                endNanoseconds: 100_000, endKind: .processEnded, cpuNanoseconds: nil),
                     ThreadInfo(index: 1, process: 0, tid: 51, name: "worker", creator: 0, startNanoseconds: 0,
                                endNanoseconds: 100_000, endKind: .returned, cpuNanoseconds: nil)]
        t.locks = [LockInfo(index: 0, process: 0, address: 0xa0, kind: .mutex)]
        let main: [TraceEvent] = [
            .init(time: 100, thread: 0, kind: .cpuIn(cpu: 0)),
            .init(time: 1_000, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
            .init(time: 5_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
            .init(time: 9_000, thread: 0, kind: .cpuOut(cpu: 0, preempted: false)),
        ]
        let worker: [TraceEvent] = [
            .init(time: 200, thread: 1, kind: .cpuIn(cpu: 1)),
            .init(time: 2_000, thread: 1, kind: .lockWait(lock: 0, flags: [])),
            .init(time: 2_100, thread: 1, kind: .cpuOut(cpu: 1, preempted: false)),
            .init(time: 5_300, thread: 1, kind: .cpuIn(cpu: 1)),
            .init(time: 5_400, thread: 1, kind: .lockAcquired(lock: 0, flags: [])),
            .init(time: 6_000, thread: 1, kind: .lockRelease(lock: 0, flags: [])),
        ]
        let path = NSTemporaryDirectory() + "gtrace-waker-\(UUID().uuidString).data"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try TraceFileWriter.write(path: path, tables: t, eventsByThread: [main, worker])
        let decoded = try perfetto(path)
        let ftrace: [Perfetto_Protos_FtraceEventBundle] = decoded.trace.packet.compactMap {
            if case let .ftraceEvents(bundle)? = $0.data { return bundle }
            return nil
        }
        var wakings: [(UInt32, Perfetto_Protos_FtraceEvent)] = []
        for bundle in ftrace {
            for event in bundle.event where event.hasSchedWaking { wakings.append((bundle.cpu, event)) }
        }
        #expect(wakings.count == 1)
        let (cpu, waking) = try #require(wakings.first)
        #expect(waking.schedWaking.pid == 51, "the wakee")
        #expect(waking.pid == 50, "the waker: the thread whose release let it acquire")
        #expect(waking.timestamp == 5_000 && cpu == 0)
        // The worker's switch out is a sleep (S), the main thread's too; each switch-in comes from idle.
        let switches: [Perfetto_Protos_SchedSwitchFtraceEvent] = ftrace.flatMap { $0.event.filter { $0.hasSchedSwitch } }.map { $0.schedSwitch }
        #expect(switches.filter { $0.prevPid == 51 }.map { $0.prevState } == [1])
        #expect(switches.filter { $0.nextPid == 51 }.count == 2)
        #expect(decoded.counts.wakings == 1)
    }
}

extension Perfetto_Protos_FtraceEvent {
    var hasSchedSwitch: Bool {
        if case .schedSwitch? = event { return true }
        return false
    }

    var hasSchedWaking: Bool {
        if case .schedWaking? = event { return true }
        return false
    }
}
