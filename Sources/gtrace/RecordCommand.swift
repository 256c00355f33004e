import ArgumentParser
import Foundation
import GtraceRecord

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run a command with the gtrace runtime preloaded and write one trace file.",
        discussion: "stdin, stdout and stderr pass through; gtrace exits with the command's own status."
    )

    @Option(name: [.short, .long], help: "Trace file to write.")
    var output: String = "gtrace.data"

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after an optional --).")
    var command: [String] = []

    func run() throws {
        var argv = command
        // `gtrace record --help`: the passthrough capture takes it for the command
        // (a program named "--help" can still be run after "--").
        if argv.first == "--help" || argv.first == "-h" {
            print(Gtrace.helpMessage(for: Self.self))
            return
        }
        if argv.first == "--" { argv.removeFirst() }
        guard !argv.isEmpty else {
            throw CommandFailure(message: "record: missing the command to run (usage: gtrace record [-o FILE] -- CMD ARGS...)", status: 64)
        }
        let runtime = try RuntimeLocator.locate()
        // The command's bytes as received (non-UTF-8 arguments stay as they are).
        let raw = RawCommandLine.trailingArguments(argv.count)
        let bytes = raw.count == argv.count && zip(raw, argv).allSatisfy({ String(decoding: $0.0.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self) == $0.1 }) ? raw : nil
        let recorder = Recorder(command: argv, commandBytes: bytes, outputPath: output, runtimePath: runtime)
        let result: Recorder.Result
        do {
            result = try recorder.run()
        } catch let failure as LaunchError {
            throw CommandFailure(message: failure.description, status: failure.status)
        }
        for warning in result.warnings.prefix(5) { printError("gtrace: warning: \(warning)") }
        if result.warnings.count > 5 { printError("gtrace: warning: and \(result.warnings.count - 5) more (gtrace report lists them)") }
        if result.nothingRecorded && !result.warnings.isEmpty {
            printError("gtrace: nothing was recorded (the warnings above say why)")
        } else if result.nothingRecorded {
            printError("gtrace: nothing was recorded: \(argv[0]) never loaded the runtime (a static or setuid program, or one that does not use the dynamic loader)")
        }
        printError(result.summaryLine(path: output))
        throw CommandFailure(message: "", status: result.exitStatus)
    }
}
