import Foundation
import Testing

/// The Chrome JSON of every sample trace, loaded into a real Perfetto UI in
/// headless Chromium by tools/viewcheck: it must import without an error and
/// show what gtrace's own report says. Screenshots go to .build/test-output/.
@Suite(.serialized) struct ViewCheckTests {
    static let outputDirectory = "\(Harness.packageRoot)/.build/test-output/viewcheck"

    @Test(arguments: ["seed1-threads", "seed3-processes", "seed7-subprocess"])
    func sampleTraceLoadsInThePerfettoUI(name: String) throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: Self.outputDirectory, withIntermediateDirectories: true)
        let trace = "\(Harness.packageRoot)/traces/\(name).data"
        let json = "\(dir)/\(name).json"
        #expect(try Harness.gtrace(["report", "--chrome", json, trace]).status == 0)
        let screenshot = "\(Self.outputDirectory)/\(name).png"
        let check = try Harness.run("\(Harness.packageRoot)/tools/viewcheck", [json, "--screenshot", screenshot])
        #expect(check.status == 0, "viewcheck: \(check.stdout) \(check.stderr)")
        let ui = try #require(try JSONSerialization.jsonObject(with: check.stdoutData) as? [String: Any], "\(check.stderr)")
        #expect(ui["loaded"] as? Bool == true)
        #expect((ui["import_errors"] as? [Any])?.isEmpty == true, "\(ui["import_errors"] ?? "")")
        // Nothing dropped: the UI holds every slice, counter value and arrow of the file.
        #expect(ui["slices"] as? Int == ui["file_slices"] as? Int)
        #expect(ui["counters"] as? Int == ui["file_counters"] as? Int)
        #expect(ui["flows"] as? Int == ui["file_flows"] as? Int)
        // The same processes and threads as the report (extra tracks have tids ≥ 2^22).
        let report = try Harness.reportJSON(trace)
        let pids = Set((report["processes"] as? [[String: Any]] ?? []).compactMap { $0["pid"] as? Int })
        let tids = Set((report["threads"] as? [[String: Any]] ?? []).compactMap { $0["tid"] as? Int })
        #expect(Set(ui["processes"] as? [Int] ?? []) == pids)
        #expect(Set((ui["threads"] as? [Int] ?? []).filter { $0 < 1 << 22 }) == tids)
        #expect(FileManager.default.fileExists(atPath: screenshot))
    }
}
