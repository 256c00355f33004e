import Foundation
import Testing

/// `gtrace view` against a hostile local user and hostile web pages
/// (RELIABILITY.md items 1, 11, 14, 18).
@Suite(.serialized) struct ViewSecurityTests {
    /// A running `gtrace view --port 0 --no-open` of a sample trace.
    final class View {
        let process = Process()
        let url: String
        let port: String

        init(temporaryDirectory: String? = nil, trace: String = "\(Harness.packageRoot)/traces/seed1-threads.data",
             standardError: FileHandle = FileHandle.nullDevice) throws {
            let out = Pipe()
            process.executableURL = URL(fileURLWithPath: Harness.gtrace)
            process.arguments = ["view", trace, "--port", "0", "--no-open"]
            if let temporaryDirectory {
                var environment = ProcessInfo.processInfo.environment
                environment["TMPDIR"] = temporaryDirectory
                process.environment = environment
            }
            process.standardOutput = out
            process.standardError = standardError
            try process.run()
            var line = Data()
            let reader = out.fileHandleForReading
            while !line.contains(10) {
                let byte = reader.readData(ofLength: 1)
                if byte.isEmpty { break }
                line += byte
            }
            url = String(decoding: line, as: UTF8.self).split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            port = String(url.dropFirst("http://127.0.0.1:".count).prefix { $0.isNumber })
        }

        /// Sends `signal` and waits: (exited normally, status).
        func stop(_ signal: Int32 = SIGINT) -> (Bool, Int32) {
            kill(process.processIdentifier, signal)
            for _ in 0..<200 where process.isRunning { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return (process.terminationReason == .exit, process.terminationStatus)
        }

        deinit { if process.isRunning { process.terminate(); process.waitUntilExit() } }
    }

    static func python(_ script: String, _ arguments: [String]) throws -> String {
        try Harness.run("/usr/bin/python3", ["-c", script] + arguments).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func anotherOriginOrHostCannotReadTheTrace() throws {
        let view = try View()
        #expect(view.url.hasPrefix("http://127.0.0.1:"), "\(view.url)")
        // A page served on another port (another origin), in headless Chromium, cannot read it.
        let check = try Harness.run("\(Harness.packageRoot)/tools/viewcheck", ["--cross-origin", view.url])
        #expect(check.stdout.contains("\"fetched\": false") && check.status == 0, "\(check.stdout) \(check.stderr)")
        // Raw requests: a foreign Origin, a rebound Host name, a guessed path.
        #expect(try ViewTests.fetch(view.url, origin: "https://evil.example").hasPrefix("403 None"))
        #expect(try ViewTests.fetch(view.url, origin: "http://127.0.0.1:1").hasPrefix("403 None"))
        #expect(try ViewTests.fetch(view.url, host: "evil.example:\(view.port)").hasPrefix("421 None"))
        #expect(try ViewTests.fetch(view.url, host: "localhost:\(view.port)").hasPrefix("200 None"))
        #expect(try ViewTests.fetch("http://127.0.0.1:\(view.port)/seed1-threads.json").hasPrefix("404"))
        #expect(try ViewTests.fetch(view.url, origin: "http://localhost:\(view.port)").hasPrefix("200 http://localhost:\(view.port) "))
        #expect(view.stop() == (true, 0))
    }

    /// A client that sends its request one byte a second, and one that asks
    /// for the trace and never reads it, do not delay a third one.
    @Test func aSlowClientDoesNotBlockAnother() throws {
        let view = try View()
        let script = """
        import socket, sys, threading, time, urllib.request
        port, url = int(sys.argv[1]), sys.argv[2]
        path = url.split(str(port), 1)[1]
        stop = time.time() + 6
        def slowloris():
            s = socket.create_connection(("127.0.0.1", port))
            for c in b"GET / HTTP/1.0\\r\\n":
                if time.time() > stop: break
                try: s.send(bytes([c]))
                except OSError: break
                time.sleep(1)
        def never_reads():
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.send(("GET %s HTTP/1.0\\r\\nHost: 127.0.0.1:%d\\r\\n\\r\\n" % (path, port)).encode())
            time.sleep(6)
        for f in (slowloris, never_reads):
            threading.Thread(target=f, daemon=True).start()
        time.sleep(1.5)
        t = time.time()
        n = len(urllib.request.urlopen(url, timeout=20).read())
        print("%.3f %d" % (time.time() - t, n))
        """
        let result = try Self.python(script, [view.port, view.url]).split(separator: " ")
        let seconds = try #require(Double(result.first ?? ""))
        #expect(seconds < 2.0, "the third request took \(seconds) s")
        #expect((Int(result.last ?? "") ?? 0) > 100_000)
        #expect(view.stop() == (true, 0))
    }

    /// Another user pre-creates `gtrace-view-<pid>` directories (for every pid
    /// the view may get) holding a symlink to a root-only file: it stays intact.
    @Test func aSymlinkPlantedByAnotherUserIsNotFollowed() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o755)
        let tmp = "\(dir)/tmp", secret = "\(dir)/secret"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: false)
        chmod(tmp, 0o777)
        try FileManager.default.createDirectory(atPath: secret, withIntermediateDirectories: false)
        chmod(secret, 0o700)
        try "original\n".write(toFile: "\(secret)/victim.txt", atomically: false, encoding: .utf8)
        chmod("\(secret)/victim.txt", 0o600)
        // The trace is served as gtrace.json: plant both the old name and a generic one.
        try FileManager.default.copyItem(atPath: "\(Harness.packageRoot)/traces/seed1-threads.data", toPath: "\(dir)/gtrace.data")
        let plant = """
        import os, sys
        last = int(open("/proc/sys/kernel/ns_last_pid").read())
        for pid in range(last, last + 3000):
            d = "%s/gtrace-view-%d" % (sys.argv[1], pid)
            try:
                os.mkdir(d); os.chmod(d, 0o777)
                os.symlink(sys.argv[2], d + "/gtrace.json"); os.symlink(sys.argv[2], d + "/trace")
            except OSError: pass
        print(os.getuid())
        """
        let planted = try Harness.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
                                                           "/usr/bin/python3", "-c", plant, tmp, "\(secret)/victim.txt"])
        #expect(planted.stdout.hasPrefix("65534"), "\(planted.stdout) \(planted.stderr)")
        let view = try View(temporaryDirectory: tmp, trace: "\(dir)/gtrace.data")
        #expect(try ViewTests.fetch(view.url).hasPrefix("200 None"))
        #expect(view.stop() == (true, 0))
        #expect(try String(contentsOfFile: "\(secret)/victim.txt", encoding: .utf8) == "original\n")
        // Only the planted directories remain: the view left nothing of its own.
        let own = try FileManager.default.contentsOfDirectory(atPath: tmp).filter {
            (try? FileManager.default.attributesOfItem(atPath: "\(tmp)/\($0)")[.ownerAccountID] as? Int) != 65534
        }
        #expect(own.isEmpty, "\(own)")
    }

    /// Nothing is left in the temporary directory, while serving or after a
    /// hang-up, nor when stderr is a closed pipe.
    @Test(arguments: [SIGHUP, SIGINT])
    func nothingLeftBehind(signal: Int32) throws {
        let tmp = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let errors = Pipe()
        try errors.fileHandleForReading.close()  // stderr: a pipe nobody reads
        let view = try View(temporaryDirectory: tmp, standardError: signal == SIGINT ? errors.fileHandleForWriting : FileHandle.nullDevice)
        #expect(try ViewTests.fetch(view.url).hasPrefix("200"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty, "no named file even while serving")
        #expect(view.stop(signal) == (true, 0))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
    }
}
