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
    writeUnbuffered(2, line + "\n")
}

/// Writes `text` to `fd` at once; a closed pipe or terminal is not an error
/// worth dying for (FileHandle.write would trap on EPIPE).
func writeUnbuffered(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}

exit(runMain())
