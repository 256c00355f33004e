import Foundation
import Testing

/// Runs real programs: builds the C workloads, runs `gtrace`, captures output.
enum Harness {
    /// The package root (this file is Tests/EndToEndTests/Harness.swift).
    static let packageRoot: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()

    /// The `gtrace` executable built next to the test bundle.
    static var gtrace: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("gtrace").path
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "gtrace-e2e-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Compiles `tools/workloads/<name>.c` (or an absolute source) into `directory`.
    static func buildWorkload(_ name: String, in directory: String, extraFlags: [String] = []) throws -> String {
        let source = name.hasPrefix("/") ? name : "\(packageRoot)/tools/workloads/\(name).c"
        let output = "\(directory)/\(URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent)"
            + (extraFlags.isEmpty ? "" : "-" + String(extraFlags.joined().filter(\.isLetter)))
        let result = try run("/usr/bin/env", ["cc", "-O2", "-pthread", "-o", output, source] + extraFlags)
        guard result.status == 0 else {
            throw HarnessError(message: "cc failed for \(source): \(result.stderr)")
        }
        return output
    }

    struct Result {
        var status: Int32
        var signal: Int32?
        var stdout: String
        var stderr: String
        var stdoutData: Data
    }

    final class DataBox: @unchecked Sendable {
        var data = Data()
    }

    struct HarnessError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Programs run one at a time: several tests compare recorded times with CPU
    /// clocks, which only agree when the traced program has the cores to itself.
    private static let exclusive = NSLock()

    /// Runs `executable` with `arguments`, feeding `stdin`; waits for it.
    static func run(_ executable: String, _ arguments: [String], stdin: Data? = nil,
                    environment: [String: String]? = nil, workingDirectory: String? = nil) throws -> Result {
        exclusive.lock()
        defer { exclusive.unlock() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        // Test functions run on threads that block most signals (SIGTERM, SIGCHLD, …),
        // and a spawned program inherits its spawner's mask, as `gtrace record` now
        // passes its own on: start every program with none blocked, as a shell would
        // (a multiprocessing Pool otherwise never ends: its workers ignore SIGTERM).
        var none = sigset_t(), previous = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try process.run()
        // Feed stdin and drain stderr concurrently with stdout so no pipe fills up.
        let errBox = DataBox()
        let group = DispatchGroup()
        if let stdin {
            let writer = input.fileHandleForWriting
            group.enter()
            DispatchQueue.global().async {
                writer.write(stdin)
                try? writer.close()
                group.leave()
            }
        }
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        process.waitUntilExit()
        let signal = process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil
        return Result(status: process.terminationStatus, signal: signal,
                      stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self),
                      stdoutData: outData)
    }

    /// `gtrace ARGS…`.
    /// Every text report any test reads is also checked for what it must never say: a
    /// prediction from a replay that does not fit the run (ci42 printed "the replay
    /// predicts no gain" beside "so gtrace predicts nothing here").
    static func gtrace(_ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil) throws -> Result {
        let result = try run(gtrace, arguments, stdin: stdin, environment: environment)
        if arguments.first == "report", !arguments.contains("--json"), result.stdout.contains("The replay does not fit this run") {
            #expect(!result.stdout.contains("the replay predicts"), "a prediction from a replay that does not fit: \(result.stdout)")
        }
        return result
    }

    /// A workload's own measurements: the last line of its output, a JSON object
    /// (empty when it is not one).
    static func lastJSONLine(_ stdout: String) -> [String: Any] {
        let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    /// A workload's own wall time (`wall_s` of its JSON line) run untraced on CPU 0 and on
    /// all CPUs: medians of 3, interleaved. A run without it is an error.
    static func oneCoreAgainstAll(_ command: [String]) throws -> (one: Double, all: Double) {
        func wall(_ executable: String, _ arguments: [String]) throws -> Double {
            let result = try run(executable, arguments)
            guard let wall = lastJSONLine(result.stdout)["wall_s"] as? Double else {
                throw HarnessError(message: "\(executable) \(arguments.joined(separator: " ")): no wall_s (\(result.status)): \(result.stdout) \(result.stderr)")
            }
            return wall
        }
        var one: [Double] = [], all: [Double] = []
        for _ in 0..<3 {
            all.append(try wall(command[0], Array(command.dropFirst())))
            one.append(try wall("/usr/bin/taskset", ["-c", "0"] + command))
        }
        return (one.sorted()[1], all.sorted()[1])
    }

    /// `gtrace report --json FILE` decoded.
    /// `replay: false` for tests of what was recorded (counts, chunks): a debug build's
    /// replay of a million-operation trace takes tens of seconds.
    static func reportJSON(_ trace: String, replay: Bool = true) throws -> [String: Any] {
        let result = try gtrace(["report", "--json"] + (replay ? [] : ["--replay-operations", "0"]) + [trace])
        guard result.status == 0,
              let object = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any] else {
            throw HarnessError(message: "report failed (\(result.status)): \(result.stderr)")
        }
        return object
    }

    /// The lines of `gtrace dump FILE`.
    static func dump(_ trace: String) throws -> [String] {
        let result = try gtrace(["dump", trace])
        guard result.status == 0 else { throw HarnessError(message: "dump failed: \(result.stderr)") }
        return result.stdout.split(separator: "\n").map(String.init)
    }
}
