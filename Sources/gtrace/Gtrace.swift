import ArgumentParser

/// The `gtrace` command line: record, report, dump.
struct Gtrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gtrace",
        abstract: "Record lock, thread and process activity of a program tree, and explain it.",
        subcommands: [RecordCommand.self, ReportCommand.self, ExportCommand.self, ViewCommand.self, DumpCommand.self, RecoverCommand.self]
    )
}

/// A failure already described; `main` prints it as one line and exits with `status`.
struct CommandFailure: Error {
    let message: String
    let status: Int32
}
