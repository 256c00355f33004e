import Foundation
import Testing

/// A local HTTP server with a thread per request, and client threads, over loopback TCP
/// (tools/workloads/py_http_load.py). The two ends of a TCP connection are two sockets:
/// before, a client's recv could not be tied to the server's send, the replay kept 2.5 s
/// of such waits as recorded, and the verdict ("Serial parts: 46 threads shared the work")
/// named nothing, though the server's threads took turns on its GIL. The runtime now names
/// a connected socket by its connection (connections.c), and rule 1 counts the server's
/// threads. The independent truth of the "as processes" what-if is the same server with a
/// process per request (`ForkingMixIn`), measured.
@Suite(.serialized) struct LoopbackServerTests {
    static let python = "/usr/bin/python3"
    static let script = "tools/workloads/py_http_load.py"
    static let load = ["4", "10", "25"]

    static func wall(_ stdout: String) -> (wall: Double, server: Int) {
        let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
        let json = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return (json["wall_s"] as? Double ?? 0, json["server_pid"] as? Int ?? -1)
    }

    @Test func aThreadedServersGILIsNamedAndItsClientsWaitsAreTiedToIt() throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(Harness.packageRoot)/\(Self.script)"
        try Remeasure.upTo(3, "loopback server") { timing in
            let trace = "\(dir)/t.data"
            let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", Self.python, path, "threading"] + Self.load)
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let server = Self.wall(recorded.stdout).server
            let report = try Harness.reportJSON(trace)
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            #expect(verdict.contains("CPU-bound Python under the GIL: ") && verdict.contains(" threads of process \(server) took turns"), "server \(server): \(verdict)")
            // The clients' recv waits end at the server's sends: few waits are left without a waker.
            let p = ParallelismTests.parallelism(report)
            let unexplained = SchedulingTests.number(p["unexplainedWaitNanoseconds"])
            let wall = SchedulingTests.number(p["wallNanoseconds"])
            #expect(unexplained <= 0.1 * wall, "\(unexplained / 1e6) ms of waits without a waker in \(wall / 1e6) ms: \(p["unexplainedWaits"] ?? "-")")
            // The what-if against the server with a process per request, both untraced (median of 3).
            let cores = p["cores"] as? Int ?? 1
            let predictions = p["predictions"] as? [[String: Any]] ?? []
            let asProcesses = predictions.first { ($0["scenario"] as? String ?? "").hasPrefix("without the GIL") && ($0["cores"] as? Int) == cores }
            let predicted = SchedulingTests.number(asProcesses?["speedup"])
            var threaded: [Double] = [], forking: [Double] = []
            for _ in 0..<3 {
                threaded.append(Self.wall(try Harness.run(Self.python, [path, "threading"] + Self.load).stdout).wall)
                forking.append(Self.wall(try Harness.run(Self.python, [path, "forking"] + Self.load).stdout).wall)
            }
            let measured = threaded.sorted()[1] / max(forking.sorted()[1], 1e-9)
            print("loopback server: as processes predicted \(predicted)×, a process per request measured \(measured)× (\(threaded) s against \(forking) s)")
            timing.expect(predicted >= 0.7 * measured && predicted <= 1.3 * measured,
                          "as processes predicted \(predicted)×, measured \(measured)× (threading \(threaded) s, forking \(forking) s)")
        }
    }
}
