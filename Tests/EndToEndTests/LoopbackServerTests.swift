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
        let json = Harness.lastJSONLine(stdout)
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

    /// Four processes sharing a `multiprocessing.Manager` dict (tools/workloads/py_manager_dict.py):
    /// every get and set is a round trip over a Unix socket to the manager's process. A
    /// client's end and the manager's are two sockets: before, the verdict was "Serial parts:
    /// 7 workers … parallelism 1.48", and the manager's 4466 replies were read by no one. A
    /// connected Unix socket is now named by the smaller inode of its two ends (the kernel's
    /// sock_diag), and the verdict names the manager as the process the others waited for.
    /// Its truth: the same work in 4 processes is not faster than in 2, untraced.
    @Test func processesSharingAManagerWaitForIt() throws {
        guard SchedulingTests.perfAllowed else { return }
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(Harness.packageRoot)/tools/workloads/py_manager_dict.py"
        func run(_ workers: Int) throws -> (wall: Double, manager: Int) {
            let json = Harness.lastJSONLine(try Harness.run(Self.python, [path, "\(workers)", "3000"]).stdout)
            return (json["wall_s"] as? Double ?? 0, json["manager_pid"] as? Int ?? -1)
        }
        try Remeasure.upTo(3, "manager dict") { timing in
            let trace = "\(dir)/t.data"
            let recorded = try Harness.run(Harness.gtrace, ["record", "-o", trace, "--", Self.python, path, "4", "3000"])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            let json = Harness.lastJSONLine(recorded.stdout)
            let manager = json["manager_pid"] as? Int ?? -1
            let report = try Harness.reportJSON(trace)
            let verdict = (report["verdict"] as? [String] ?? []).joined(separator: "\n")
            #expect(verdict.contains("The processes waited for process \(manager) "), "manager \(manager): \(verdict)")
            // Its replies were read by the four workers.
            let processes = report["processes"] as? [[String: Any]] ?? []
            let replies = processes.first { ($0["pid"] as? Int) == manager }?["writesReadByOtherProcesses"] as? Int ?? 0
            #expect(replies >= 100, "\(processes.map { ($0["pid"] ?? "-", $0["writesReadByOtherProcesses"] ?? "-") })")
            var two: [Double] = [], four: [Double] = []
            for _ in 0..<3 {
                two.append(try run(2).wall)
                four.append(try run(4).wall)
            }
            print("manager dict: 2 workers \(two) s, 4 workers \(four) s")
            timing.expect(four.sorted()[1] >= 0.85 * two.sorted()[1], "2 workers \(two) s, 4 workers \(four) s")
        }
    }
}
