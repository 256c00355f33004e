import ArgumentParser
import Foundation
import GtraceExport
import GtraceFormat

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trace as Chrome Trace Event JSON (Perfetto UI, chrome://tracing), streaming."
    )

    @Argument(help: "Trace file (default: gtrace.data).")
    var file: String = "gtrace.data"

    @Option(name: .shortAndLong, help: ArgumentHelp("Output file; - for standard output (default: the trace's name with .json).",
                                                    valueName: "OUT.json"))
    var output: String?

    @OptionGroup var chrome: ChromeOptions

    func run() throws {
        let trace = try TraceFile(path: file)
        let path = output ?? (file.hasSuffix(".data") ? String(file.dropLast(5)) : file) + ".json"
        let written = try chrome.export(trace, to: path)
        if path != "-" {
            printError("gtrace: wrote \(path) (\(written.bytes) bytes, \(written.events) JSON events)")
        }
    }
}
