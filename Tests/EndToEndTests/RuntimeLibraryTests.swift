import Foundation
import Testing

/// The preload runtime links libc/libdl only, and gtrace finds it in the build
/// tree and installed next to the executable.
@Suite struct RuntimeLibraryTests {
    static var buildTreeLibrary: String {
        URL(fileURLWithPath: Harness.gtrace).deletingLastPathComponent()
            .appendingPathComponent("gtrace_GtraceRecord.resources/libgtrace-runtime.so").path
    }

    @Test func dependsOnLibcAndLibdlOnly() throws {
        let result = try Harness.run("/usr/bin/env", ["readelf", "-d", Self.buildTreeLibrary])
        #expect(result.status == 0, "\(result.stderr)")
        let needed = result.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }
            .compactMap { line -> String? in
                guard let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]") else { return nil }
                return String(line[line.index(after: open)..<close])
            }
        #expect(!needed.isEmpty)
        let allowed: Set<String> = ["libc.so.6", "libdl.so.2", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"]
        #expect(Set(needed).isSubset(of: allowed), "NEEDED: \(needed)")
        #expect(!result.stdout.contains("RUNPATH"))
        #expect(!result.stdout.contains("RPATH"))
    }

    @Test func foundWhenInstalledNextToTheExecutable() throws {
        let dir = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: Harness.gtrace, toPath: "\(dir)/gtrace")
        try FileManager.default.copyItem(atPath: Self.buildTreeLibrary, toPath: "\(dir)/libgtrace-runtime.so")
        let workload = try Harness.buildWorkload("passthrough", in: dir)
        let result = try Harness.run("\(dir)/gtrace", ["record", "-o", "\(dir)/t.data", "--", workload, "exit", "0"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("nothing was recorded"))
        #expect(result.stderr.contains(" 200 ") || result.stderr.contains("events"))
        // Without the library anywhere, a clear error.
        try FileManager.default.removeItem(atPath: "\(dir)/libgtrace-runtime.so")
        let missing = try Harness.run("\(dir)/gtrace", ["record", "-o", "\(dir)/u.data", "--", workload, "exit", "0"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("libgtrace-runtime.so not found"))
    }
}
