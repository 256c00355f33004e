import CGtraceFormat
import Foundation
import GtraceFormat
#if canImport(Glibc)
import Glibc
#endif

/// Sessions whose recorder died (SIGKILL, the OOM killer): the traced tree
/// went on writing into the session, which nothing merges or removes.
/// `gtrace recover` lists them, merges one into a trace, or discards it
/// (RELIABILITY item 3; docs/RECORDING.md, "What survives what").
public enum Recovery {
    public struct StaleSession {
        public var path: String
        public var recorderPid: Int32
        public var rootPid: Int32
        public var command: [String]
        /// The command still runs: a trace merged now is cut at this moment.
        public var rootAlive: Bool
        public var bytes: UInt64
    }

    public struct RecoveryError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sessions of this user whose recorder is gone.
    public static func staleSessions() -> [StaleSession] {
        var found: [StaleSession] = []
        for base in SessionDirectory.bases {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).sorted() where name.hasPrefix(SessionDirectory.namePrefix) {
                let path = base + "/" + name
                var st = stat()
                guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == geteuid(),
                      let facts = SessionFacts.read(session: path), !isRecorder(facts.recorderPid) else { continue }
                found.append(StaleSession(path: path, recorderPid: facts.recorderPid, rootPid: facts.rootPid, command: facts.command,
                                          rootAlive: isRunning(facts.rootPid), bytes: size(of: path)))
            }
        }
        return found
    }

    /// True while `pid` is a live gtrace process (a recorder; not a reused pid).
    static func isRecorder(_ pid: Int32) -> Bool {
        guard pid > 0, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let argv0 = data.split(separator: 0).first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        return URL(fileURLWithPath: argv0).lastPathComponent.hasPrefix("gtrace")
    }

    /// A live process that is not a zombie (an orphan whose new parent does not reap it stays one).
    static func isRunning(_ pid: Int32) -> Bool {
        guard pid > 0, let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return false }
        let text = String(decoding: data, as: UTF8.self)
        guard let close = text.range(of: ")", options: .backwards) else { return false }
        let state = text[close.upperBound...].dropFirst().first
        return state != "Z" && state != "X"
    }

    static func size(of directory: String) -> UInt64 {
        var total: UInt64 = 0
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let name = enumerator?.nextObject() as? String {
            var st = stat()
            if lstat(directory + "/" + name, &st) == 0, st.st_mode & S_IFMT == S_IFREG { total += UInt64(st.st_blocks) * 512 }
        }
        return total
    }

    /// Merges the session at `path` into a trace at `output`, then removes the session,
    /// unless the command still runs: then the trace is cut at this moment and the
    /// session is kept for a later, fuller recovery (a warning says so).
    /// The trace says it was recovered: no exit statuses the recorder would have
    /// collected, no CPU time of the tree, and no scheduling from perf.
    public static func recover(session path: String, output: String) throws -> Recorder.Result {
        guard let facts = SessionFacts.read(session: path) else {
            throw RecoveryError(description: "\(path): not a gtrace session (no readable \(SessionFacts.fileName))")
        }
        if isRecorder(facts.recorderPid) {
            throw RecoveryError(description: "\(path): its recorder (pid \(facts.recorderPid)) is still running")
        }
        try Recorder.checkOverwritable(output)
        try Recorder.checkWritable(output)
        let started = Clocks.now().monotonic
        let dropBox = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).first { $0.hasPrefix("drop-") }
        let contents = SessionReader.read(directory: path, dropBox: dropBox)
        let end = lastMonotonic(contents) ?? facts.epochMonotonicNanoseconds
        let launch = LaunchFacts(command: facts.command, rootPid: facts.rootPid, rootExitCode: nil, rootSignal: nil,
                                 epochMonotonic: facts.epochMonotonicNanoseconds, epochRealtime: facts.epochRealtimeNanoseconds,
                                 endMonotonic: max(end, facts.epochMonotonicNanoseconds), clockPairs: [],
                                 treeUserNanoseconds: nil, treeSystemNanoseconds: nil,
                                 info: [("gtrace_version", facts.gtraceVersion), ("host", facts.host), ("cpus", "\(facts.cpus)"),
                                        ("root_pid", "\(facts.rootPid)"), ("recovered", "recorder pid \(facts.recorderPid) died"),
                                        ("warning", "recovered by gtrace recover: the recorder (pid \(facts.recorderPid)) died during the recording, so exit statuses it would have collected, the tree's CPU time and scheduling from perf are missing; the trace ends at the last event recorded")],
                                 perf: nil, perfRefusal: "the recorder died: perf's records stopped with it")
        var builder = TraceBuilder(session: contents, facts: launch)
        builder.build()
        let writer = try Recorder.write(builder.tables, builder.blocks, to: output)
        var warnings = builder.warnings
        if isRunning(facts.rootPid) {
            warnings.append("the command (pid \(facts.rootPid)) still runs, recording into \(path): the trace stops here and the session is kept; recover it again when the command has ended")
        } else {
            try FileManager.default.removeItem(atPath: path)
        }
        let tables = builder.tables
        var result = Recorder.Result(exitStatus: 0, eventCount: writer.eventCount, processCount: tables.processes.count,
                                     threadCount: tables.threads.count, lockCount: tables.locks.filter { $0.kind != .condition }.count,
                                     durationNanoseconds: launch.endMonotonic - launch.epochMonotonic, fileBytes: writer.bytesWritten,
                                     nothingRecorded: !tables.processes.contains { $0.instrumented }, warnings: warnings)
        result.mergeNanoseconds = Clocks.now().monotonic - started
        result.symbolNanoseconds = builder.symbolNanoseconds
        result.symbolFiles = builder.symbolObjectsRead
        result.symbolFilesCached = builder.symbolObjectsCached
        result.processAndThreadCounts = tables.processAndThreadCounts
        return result
    }

    /// CLOCK_MONOTONIC time of the session's last record, from its own clock pairs.
    static func lastMonotonic(_ contents: SessionContents) -> UInt64? {
        var pairs: [(tsc: UInt64, monotonic: UInt64)] = []
        var last: UInt64 = 0
        for thread in contents.threads {
            thread.forEach { r in
                last = max(last, r.tsc)
                if r.kind == UInt16(GTRACE_RAW_CLOCK_SYNC.rawValue) { pairs.append((r.tsc, r.addr)) }
            }
        }
        guard last > 0 else { return nil }
        return ClockFit(pairs: pairs, timestampsAreTSC: GTRACE_TIMESTAMP_IS_TSC != 0).monotonic(last) + 1
    }

    /// Removes a stale session without merging it.
    public static func discard(session path: String) throws {
        let facts = SessionFacts.read(session: path)
        guard facts != nil || URL(fileURLWithPath: path).lastPathComponent.hasPrefix(SessionDirectory.namePrefix) else {
            throw RecoveryError(description: "\(path): not a gtrace session")
        }
        if let facts, isRecorder(facts.recorderPid) {
            throw RecoveryError(description: "\(path): its recorder (pid \(facts.recorderPid)) is still running")
        }
        try FileManager.default.removeItem(atPath: path)
    }
}
