import ArgumentParser
import Foundation
import GtraceAnalysis
import GtraceExport
import GtraceFormat

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarise traces: the verdict and its numbers (--details: every table); several traces: a comparison."
    )

    @Argument(help: "Trace files (default: gtrace.data).")
    var files: [String] = []

    @Flag(help: "Write the numbers as JSON instead of text.")
    var json = false

    @Flag(help: "Every section: processes, threads, locks, the GIL, parallelism, the critical path and the replay's predictions.")
    var details = false

    @Option(help: ArgumentHelp("Replay the what-ifs of traces of at most this many operations (lock operations, waits, work stretches), and the recording itself (its fit and critical path) up to 4 times as many; 0: no replay.",
                               valueName: "N"))
    var replayOperations = Analyzer.defaultReplayOperationLimit

    @Option(help: ArgumentHelp("Also write Chrome Trace Event JSON (Perfetto, chrome://tracing) to this file.", valueName: "OUT.json"))
    var chrome: String?

    @Option(help: ArgumentHelp("Also write a native Perfetto protobuf trace (thread states, wakers) to this file.", valueName: "OUT.pftrace"))
    var perfetto: String?

    @Option(help: ArgumentHelp("Also write a self-contained HTML report (every trace given) to this file.", valueName: "OUT.html"))
    var html: String?

    @OptionGroup(title: "Chrome JSON")
    var chromeOptions: ChromeOptions

    func validate() throws {
        if replayOperations < 0 { throw ValidationError("--replay-operations must be 0 or more") }
        if chrome != nil && files.count > 1 {
            throw ValidationError("--chrome takes a single trace file")
        }
        if perfetto != nil && files.count > 1 {
            throw ValidationError("--perfetto takes a single trace file")
        }
    }

    func run() throws {
        let paths = files.isEmpty ? ["gtrace.data"] : files
        var analyses: [TraceAnalysis] = []
        for path in paths {
            let file = try TraceFile(path: path)
            analyses.append(Analyzer.analyze(file, replayOperations: replayOperations))
            if let chrome { _ = try chromeOptions.export(file, to: chrome) }
            if let perfetto { _ = try chromeOptions.exportPerfetto(file, to: perfetto) }
        }
        if let html {
            let output = try FileOutput(path: html)
            try output.write(try HTMLReport.render(analyses))
            try output.close()
        }
        if json {
            print(try JSONReport.render(analyses), terminator: "")
        } else if analyses.count > 1 {
            print(ComparisonReport.render(Comparison(analyses)), terminator: "")
            if details { print("\n" + analyses.map { TextReport.render($0) }.joined(separator: "\n"), terminator: "") }
        } else {
            print(analyses.map { TextReport.render($0, details: details) }.joined(separator: "\n"), terminator: "")
        }
        // The text report lists its warnings itself.
        for analysis in analyses where json {
            for warning in analysis.warnings { printError("gtrace: warning: \(warning)") }
        }
    }
}
