import Foundation
import GtraceFormat

/// What the perf rings recorded, parsed from `<session>/perf/cpu<N>.raw`:
/// each thread's switches in time order, and the tree's forks, execs and exits.
/// Times are CLOCK_MONOTONIC nanoseconds (the events use that clock).
struct PerfData {
    /// One context switch of one thread.
    struct Switch {
        var time: UInt64
        var cpu: UInt32
        /// true: the thread went onto the CPU; false: it left it.
        var isIn: Bool
        /// Left the CPU while still runnable (preempted).
        var preempted: Bool
    }

    struct TaskEvent {
        var time: UInt64
        var pid: Int32
        var ppid: Int32
        var tid: Int32
        var parentTid: Int32
    }

    struct Comm {
        var time: UInt64
        var pid: Int32
        var tid: Int32
        var name: String
        var isExec: Bool
    }

    var switches: [Int32: [Switch]] = [:]
    /// Process of every thread seen.
    var pidOfThread: [Int32: Int32] = [:]
    var forks: [TaskEvent] = []
    var exits: [TaskEvent] = []
    var comms: [Comm] = []
    /// Records the kernel dropped because a ring was full.
    var lostRecords: UInt64 = 0
    /// Per process, the spinning thread runtimes it mapped (SpinWaitRuntime), from
    /// the mmap records of executable mappings: their file names (the last part).
    var spinWaitObjects: [Int32: Set<String>] = [:]

    // perf_event.h record types and misc bits used here.
    private static let recordMmap: UInt32 = 1, recordLost: UInt32 = 2, recordComm: UInt32 = 3, recordExit: UInt32 = 4
    private static let recordFork: UInt32 = 7, recordSwitch: UInt32 = 14
    private static let miscSwitchOut: UInt16 = 0x2000, miscSwitchOutPreempt: UInt16 = 0x4000
    private static let miscCommExec: UInt16 = 0x2000
    /// sample_id_all with TID|TIME|CPU appends pid, tid, time, cpu, reserved.
    private static let sampleIDBytes = 24

    /// Parses every ring file in `directory`; missing directory gives empty data.
    init(directory: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".raw") }
        for name in names.sorted() {
            guard let bytes = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            bytes.withUnsafeBytes { parse($0) }
        }
        for key in switches.keys {
            switches[key]?.sort { ($0.time, $0.isIn ? 1 : 0) < ($1.time, $1.isIn ? 1 : 0) }
        }
        forks.sort { $0.time < $1.time }
        exits.sort { $0.time < $1.time }
        comms.sort { $0.time < $1.time }
    }

    private mutating func parse(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset + 8 <= bytes.count {
            let type = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
            let misc = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            let size = Int(bytes.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self))
            guard size >= 8, offset + size <= bytes.count else { break }  // a cut record ends the stream
            let body = offset + 8
            let id = offset + size - Self.sampleIDBytes
            defer { offset += size }
            guard id >= body else { continue }
            let pid = bytes.loadUnaligned(fromByteOffset: id, as: Int32.self)
            let tid = bytes.loadUnaligned(fromByteOffset: id + 4, as: Int32.self)
            let time = bytes.loadUnaligned(fromByteOffset: id + 8, as: UInt64.self)
            let cpu = bytes.loadUnaligned(fromByteOffset: id + 16, as: UInt32.self)
            switch type {
            case Self.recordSwitch:
                guard tid > 0 else { continue }
                pidOfThread[tid] = pid
                let out = misc & Self.miscSwitchOut != 0
                switches[tid, default: []].append(Switch(time: time, cpu: cpu, isIn: !out,
                                                         preempted: out && misc & Self.miscSwitchOutPreempt != 0))
            case Self.recordFork, Self.recordExit:
                guard id - body >= 24 else { continue }
                let event = TaskEvent(time: bytes.loadUnaligned(fromByteOffset: body + 16, as: UInt64.self),
                                      pid: bytes.loadUnaligned(fromByteOffset: body, as: Int32.self),
                                      ppid: bytes.loadUnaligned(fromByteOffset: body + 4, as: Int32.self),
                                      tid: bytes.loadUnaligned(fromByteOffset: body + 8, as: Int32.self),
                                      parentTid: bytes.loadUnaligned(fromByteOffset: body + 12, as: Int32.self))
                pidOfThread[event.tid] = event.pid
                if type == Self.recordFork { forks.append(event) } else { exits.append(event) }
            case Self.recordComm:
                guard id - body >= 8 else { continue }
                let namePid = bytes.loadUnaligned(fromByteOffset: body, as: Int32.self)
                let nameTid = bytes.loadUnaligned(fromByteOffset: body + 4, as: Int32.self)
                let raw = UnsafeRawBufferPointer(rebasing: bytes[(body + 8)..<id])
                let name = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                comms.append(Comm(time: time, pid: namePid, tid: nameTid, name: name, isExec: misc & Self.miscCommExec != 0))
            case Self.recordMmap:
                // pid, tid, addr, len, pgoff, then the file name (NUL-padded).
                guard id - body > 32 else { continue }
                let raw = UnsafeRawBufferPointer(rebasing: bytes[(body + 32)..<id])
                let path = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                if SpinWaitRuntime.of(object: path) != nil, let name = path.split(separator: "/").last {
                    spinWaitObjects[bytes.loadUnaligned(fromByteOffset: body, as: Int32.self), default: []].insert(String(name))
                }
            case Self.recordLost:
                if id - body >= 16 { lostRecords += bytes.loadUnaligned(fromByteOffset: body + 8, as: UInt64.self) }
            default:
                break
            }
        }
    }
}
