import Foundation
@testable import GtraceFormat

/// A small trace with every event kind: 1 process, 2 threads, a mutex, a rwlock and a condition.
func sampleTrace() -> (TraceTables, [[TraceEvent]]) {
    var t = TraceTables()
    t.info = RunInfo(values: [("command", "./app --flag"), ("cpus", "2")])
    t.clock = ClockInfo(epochMonotonicNanoseconds: 1_000_000, epochRealtimeNanoseconds: 2_000_000,
                        ticksPerNanosecond: 2.5, maxResidualNanoseconds: 40, recordingEndNanoseconds: 90_000)
    t.strings = ["main", "worker"]
    t.processes = [ProcessInfo(index: 0, pid: 100, ppid: 1, parent: nil, image: 0, executable: "/bin/app",
                               arguments: ["./app", "--flag"], startNanoseconds: 10, endNanoseconds: 80_000,
                               exitKind: .exitCall, exitStatus: 3, userCPUNanoseconds: 500, systemCPUNanoseconds: 70)]
    t.threads = [
        ThreadInfo(index: 0, process: 0, tid: 100, name: "main", creator: nil, startNanoseconds: 10,
                   endNanoseconds: 80_000, endKind: .processEnded, cpuNanoseconds: 1234),
        ThreadInfo(index: 1, process: 0, tid: 101, name: "worker", creator: 0, startNanoseconds: 200,
                   endNanoseconds: 70_000, endKind: .returned, cpuNanoseconds: nil),
    ]
    t.locks = [LockInfo(index: 0, process: 0, address: 0x5555_0000_1000, kind: .mutex),
               LockInfo(index: 1, process: 0, address: 0x5555_0000_2000, kind: .rwlock),
               LockInfo(index: 2, process: 0, address: 0x5555_0000_3000, kind: .condition)]
    let main: [TraceEvent] = [
        .init(time: 10, thread: 0, kind: .processStart),
        .init(time: 11, thread: 0, kind: .threadStart(creator: nil)),
        .init(time: 12, thread: 0, kind: .threadName(string: 0)),
        .init(time: 100, thread: 0, kind: .lockAcquire(lock: 0, flags: [])),
        .init(time: 150, thread: 0, kind: .fork(childPid: 4242)),
        .init(time: 1_000, thread: 0, kind: .lockRelease(lock: 0, flags: [])),
        .init(time: 2_000, thread: 0, kind: .lockTryFailed(lock: 0, flags: [])),
        .init(time: 3_000, thread: 0, kind: .lockAcquire(lock: 1, flags: [.rwlock, .shared])),
        .init(time: 4_000, thread: 0, kind: .lockRelease(lock: 1, flags: [.rwlock, .shared])),
        .init(time: 5_000, thread: 0, kind: .exec),
        .init(time: 79_000, thread: 0, kind: .threadEnd(kind: .processEnded, cpuNanoseconds: 1234)),
        .init(time: 80_000, thread: 0, kind: .processExit(kind: .exitCall, status: 3)),
    ]
    let worker: [TraceEvent] = [
        .init(time: 200, thread: 1, kind: .threadStart(creator: 0)),
        .init(time: 300, thread: 1, kind: .lockWait(lock: 0, flags: [])),
        .init(time: 1_100, thread: 1, kind: .lockAcquired(lock: 0, flags: [])),
        .init(time: 1_200, thread: 1, kind: .lockRelease(lock: 0, flags: [.viaCondition])),
        .init(time: 1_201, thread: 1, kind: .conditionWait(condition: 2, mutex: 0)),
        .init(time: 9_000, thread: 1, kind: .conditionWoke(condition: 2, mutex: 0, result: 110)),
        .init(time: 9_001, thread: 1, kind: .lockAcquire(lock: 0, flags: [.viaCondition])),
        .init(time: 9_500, thread: 1, kind: .lockRelease(lock: 0, flags: [])),
        .init(time: 9_600, thread: 1, kind: .lockWait(lock: 1, flags: [.rwlock])),
        .init(time: 9_700, thread: 1, kind: .lockFailed(lock: 1, flags: [.rwlock], error: 110)),
        .init(time: 70_000, thread: 1, kind: .threadEnd(kind: .returned, cpuNanoseconds: 999)),
    ]
    return (t, [main, worker])
}

/// Writes `sampleTrace()` (or the given trace) to a fresh temporary file and returns its path.
func writeTemporaryTrace(_ trace: (TraceTables, [[TraceEvent]]) = sampleTrace()) throws -> String {
    let path = NSTemporaryDirectory() + "gtrace-test-\(UUID().uuidString).data"
    _ = try TraceFileWriter.write(path: path, tables: trace.0, eventsByThread: trace.1)
    return path
}

/// All events of `file`, with the stream's warnings.
func readAll(_ file: TraceFile) -> ([TraceEvent], [String]) {
    var stream = file.events()
    var events: [TraceEvent] = []
    while let e = stream.next() { events.append(e) }
    return (events, stream.warnings)
}
