import ArgumentParser
import Foundation
import GtraceExport
import GtraceFormat

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trace as Chrome Trace Event JSON or as a native Perfetto protobuf trace, streaming."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, perfetto
    }

    @Argument(help: "Trace file (default: gtrace.data).")
    var file: String = "gtrace.data"

    @Option(help: ArgumentHelp("json: Chrome Trace Event JSON (Perfetto UI, chrome://tracing); perfetto: Perfetto's protobuf "
                               + "format, with thread states and wakers, several times smaller (Perfetto UI, trace processor).",
                               valueName: "json|perfetto"))
    var format: Format = .json

    @Option(name: .shortAndLong, help: ArgumentHelp("Output file; - for standard output (default: the trace's name with .json, or .pftrace).",
                                                    valueName: "OUT"))
    var output: String?

    @OptionGroup var chrome: ChromeOptions

    func run() throws {
        let trace = try TraceFile(path: file)
        let base = file.hasSuffix(".data") ? String(file.dropLast(5)) : file
        switch format {
        case .json:
            let path = output ?? base + ".json"
            let written = try chrome.export(trace, to: path)
            if path != "-" {
                printError("gtrace: wrote \(path) (\(written.bytes) bytes, \(written.events) JSON events)")
            }
        case .perfetto:
            let path = output ?? base + ".pftrace"
            let written = try chrome.exportPerfetto(trace, to: path)
            if path != "-" {
                printError("gtrace: wrote \(path) (\(written.bytes) bytes, \(written.events) events)")
            }
        }
    }
}
