import Foundation
import Testing

/// `gtrace view`: serves the trace (Perfetto protobuf; Chrome JSON with
/// --json) on 127.0.0.1 with CORS, nothing else (offline: also the local
/// Perfetto UI, which then loads the trace), and stops cleanly on SIGINT.
@Suite(.serialized) struct ViewTests {
    /// Fetches `url` with Python's urllib: "status allow-origin bytes".
    static func fetch(_ url: String, origin: String? = nil, host: String? = nil) throws -> String {
        let script = """
        import sys, urllib.request, urllib.error
        try:
            q = urllib.request.Request(sys.argv[1])
            if sys.argv[2]: q.add_header("Origin", sys.argv[2])
            if sys.argv[3]: q.add_header("Host", sys.argv[3])
            r = urllib.request.urlopen(q, timeout=10)
            print(r.status, r.headers.get("Access-Control-Allow-Origin"), len(r.read()))
        except urllib.error.HTTPError as e:
            print(e.code, e.headers.get("Access-Control-Allow-Origin"), 0)
        """
        return try Harness.run("/usr/bin/python3", ["-c", script, url, origin ?? "", host ?? ""]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(arguments: [false, true])
    func servesTheTraceOnLoopbackAndStopsOnControlC(offline: Bool) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.gtrace)
        // Online: the Chrome JSON (--json); offline: the default, a Perfetto protobuf trace, loaded by the real UI.
        let json = !offline
        let suffix = json ? ".json" : ".pftrace"
        process.arguments = ["view", "\(Harness.packageRoot)/traces/seed1-threads.data", "--port", "0", "--no-open"]
            + (offline ? ["--offline"] : []) + (json ? ["--json"] : [])
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outPath = "\(dir)/view.out"
        #expect(FileManager.default.createFile(atPath: outPath, contents: nil))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // The first two lines: where the JSON is, and the link to open.
        var text = ""
        for _ in 0..<100 where text.split(separator: "\n").count < 2 {
            usleep(100_000)
            text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        }
        let lines = text.split(separator: "\n").map(String.init)
        let jsonURL = try #require(lines.first?.split(separator: " ").last.map(String.init))
        #expect(jsonURL.hasPrefix("http://127.0.0.1:") && jsonURL.hasSuffix("/seed1-threads\(suffix)"))
        let port = jsonURL.dropFirst("http://127.0.0.1:".count).prefix { $0.isNumber }
        let link = try #require(lines.dropFirst().first)
        #expect(link.hasSuffix("#!/?url=\(jsonURL)"))
        #expect(link.hasPrefix(offline ? "http://127.0.0.1:\(port)/index.html" : "https://ui.perfetto.dev/"))

        // The trace's path starts with a 128-bit token.
        let token = jsonURL.split(separator: "/").dropFirst(2).first.map(String.init) ?? ""
        #expect(token.count == 32 && token.allSatisfy(\.isHexDigit), "\(jsonURL)")
        let served = try Self.fetch(jsonURL).split(separator: " ")
        #expect(served.first == "200")
        #expect(served.dropFirst().first == "None", "no CORS header without an Origin")
        #expect(try Self.fetch(jsonURL, origin: "https://ui.perfetto.dev") .hasPrefix("200 https://ui.perfetto.dev "),
                "CORS header for the Perfetto UI")
        #expect(try Self.fetch("http://127.0.0.1:\(port)/../../etc/passwd").hasPrefix("404"))
        #expect(try Self.fetch("http://127.0.0.1:\(port)/index.html").hasPrefix(offline ? "200" : "404"))
        if offline {
            // The real UI, served by gtrace view, loads the trace it serves.
            let check = try Harness.run("\(Harness.packageRoot)/tools/viewcheck", ["--url", link])
            #expect(check.stdout.contains("\"loaded\": true") && check.stdout.contains("\"import_errors\": []"), "\(check.stdout) \(check.stderr)")
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }
}
