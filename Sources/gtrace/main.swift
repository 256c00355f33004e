import ArgumentParser
import Foundation
import GtraceFormat
import GtraceRecord

/// Runs the command and maps every error to one line on stderr and an exit code:
/// 64 for bad arguments, 1 for a bad trace or I/O, the command's own status for `record`.
func runMain() -> Int32 {
    do {
        var command = try Gtrace.parseAsRoot()
        try command.run()
        return 0
    } catch let failure as CommandFailure {
        if !failure.message.isEmpty { printError("gtrace: \(failure.message)") }
        return failure.status
    } catch let exit as ExitCode {
        return exit.rawValue
    } catch let error as TraceError {
        printError("gtrace: \(error)")
        return 1
    } catch let error as RecordError {
        printError("gtrace: \(error)")
        return 1
    } catch {
        let code = Gtrace.exitCode(for: error)
        if code == .success {
            print(Gtrace.fullMessage(for: error))
            return 0
        }
        let message = Gtrace.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        printError("gtrace: \(message) (see gtrace --help)")
        return code == .validationFailure ? 64 : code.rawValue
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

exit(runMain())
