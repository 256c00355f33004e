import ArgumentParser
import GtraceExport
import GtraceFormat

/// The export options shared by `export`, `view` and `report --chrome/--perfetto`.
struct ChromeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Export from this time on (seconds since the recording started).", valueName: "SECONDS"))
    var from: Double?

    @Option(help: ArgumentHelp("Export up to this time (seconds since the recording started).", valueName: "SECONDS"))
    var to: Double?

    @Option(help: ArgumentHelp("Export only this process (repeatable).", valueName: "PID"))
    var pid: [Int32] = []

    @Option(help: ArgumentHelp("Write at most this many JSON events (JSON only).", valueName: "N"))
    var maxEvents: Int?

    /// A JSON trace above this size loads slowly, or not at all, in the UIs.
    static let largeBytes = 256 * 1_000_000

    /// Times must fit in a trace's nanoseconds (2^64 ns is about 1.84e10 s): 1.8e10 s and above are refused.
    static let maxSeconds = 1.8e10

    func validate() throws {
        for (name, value) in [("--from", from), ("--to", to)] {
            guard let value else { continue }
            if !value.isFinite { throw ValidationError("\(name) must be a number of seconds, not \(value)") }
            if value >= Self.maxSeconds { throw ValidationError("\(name) must be below 1.8e10 seconds (2^64 ns)") }
        }
        if let from, from < 0 { throw ValidationError("--from must be 0 or more seconds") }
        if let from, let to, to < from { throw ValidationError("--to must not be before --from") }
        if let maxEvents, maxEvents < 1 { throw ValidationError("--max-events must be at least 1") }
    }

    var filter: ChromeExportFilter {
        ChromeExportFilter(from: from.map { UInt64($0 * 1e9) }, to: to.map { UInt64($0 * 1e9) },
                           pids: pid.isEmpty ? nil : Set(pid), maxEvents: maxEvents)
    }

    /// Writes `trace` to `path` as a native Perfetto protobuf trace (the same
    /// tracks, slices, flows and counters as the JSON, plus thread states).
    func exportPerfetto(_ trace: TraceFile, to path: String) throws -> (bytes: Int, events: Int) {
        try exportPerfetto(trace, to: try FileOutput(path: path))
    }

    /// Writes `trace` to `output` as a native Perfetto protobuf trace.
    func exportPerfetto(_ trace: TraceFile, to output: FileOutput) throws -> (bytes: Int, events: Int) {
        let writer = PerfettoTraceWriter(file: trace, output: output, filter: filter)
        let warnings = try writer.write()
        try output.close()
        for warning in warnings { printError("gtrace: warning: \(trace.path): \(warning)") }
        return (output.bytesWritten, writer.counts.events)
    }

    /// Writes `trace` to `path`; warns about dropped events and a file too big to load comfortably.
    func export(_ trace: TraceFile, to path: String) throws -> (bytes: Int, events: Int) {
        try export(trace, to: try FileOutput(path: path))
    }

    /// Writes `trace` to `output` (named `output.path` in warnings).
    func export(_ trace: TraceFile, to output: FileOutput) throws -> (bytes: Int, events: Int) {
        let path = output.path
        let writer = ChromeTraceWriter(file: trace, output: output, filter: filter)
        let warnings = try writer.write()
        try output.close()
        for warning in warnings { printError("gtrace: warning: \(trace.path): \(warning)") }
        if writer.droppedEvents > 0 {
            printError("gtrace: warning: \(path): \(writer.droppedEvents) JSON events left out by --max-events \(maxEvents ?? 0)")
        }
        if output.bytesWritten > Self.largeBytes {
            printError("gtrace: warning: \(path) is \(output.bytesWritten / 1_000_000) MB: trace viewers get slow or fail above ~256 MB; "
                       + "narrow it with --from/--to, --pid or --max-events")
        }
        return (output.bytesWritten, writer.writtenEvents)
    }
}
