import ArgumentParser
import Foundation
import GtraceRecord

struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "List, merge or discard the sessions of recorders that died.",
        discussion: """
        A `gtrace record` that is killed (SIGKILL, the OOM killer) leaves its session directory \
        (/dev/shm/gtrace-session-*): the traced tree goes on recording into it. Without an \
        argument, lists those sessions. With one, merges it into a trace and removes it; \
        --discard removes it without merging.
        """
    )

    @Argument(help: "A session directory, as listed.")
    var session: String?

    @Option(name: .shortAndLong, help: "Output trace file.")
    var output = "gtrace-recovered.data"

    @Flag(help: "Remove the session without merging it.")
    var discard = false

    func run() throws {
        guard let session else {
            let stale = Recovery.staleSessions()
            if stale.isEmpty {
                print("no session of a recorder that died")
                return
            }
            for s in stale {
                let state = s.rootAlive ? "still running" : "ended"
                print("\(s.path)  \(String(format: "%.1f", Double(s.bytes) / 1e6)) MB  recorder \(s.recorderPid) died, command \(s.rootPid) \(state): \(s.command.joined(separator: " "))")
            }
            return
        }
        do {
            if discard {
                try Recovery.discard(session: session)
                return
            }
            let result = try Recovery.recover(session: session, output: output)
            for warning in result.warnings.prefix(5) { printError("gtrace: warning: \(warning)") }
            printError(result.summaryLine(path: output).replacingOccurrences(of: "gtrace: recorded", with: "gtrace: recovered"))
        } catch {
            throw CommandFailure(message: "gtrace recover: \(error)", status: 1)
        }
    }
}
