import ArgumentParser
import GtraceFormat

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print a trace's tables and every event, one per line."
    )

    @Argument(help: "Trace file.")
    var file: String = "gtrace.data"

    func run() throws {
        let trace = try TraceFile(path: file)
        let output = try FileOutput(path: "-")
        for line in TextDump.tableLines(trace.tables) { try output.write(line + "\n") }
        var stream = trace.events()
        while let event = stream.next() {
            try output.write(TextDump.line(event, tables: trace.tables) + "\n")
        }
        try output.close()
        for warning in stream.warnings { printError("gtrace: warning: \(warning)") }
    }
}
