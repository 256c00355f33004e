@testable import GtraceRecord
import Foundation
import Testing

struct DemanglerTests {
    @Test func cxxAndLegacyRustNamesAreDemangled() {
        var demangler = Demangler()
        #expect(demangler.demangle("_ZN4jobs5Queue4pushEi") == "jobs::Queue::push(int)")
        // Legacy Rust symbols are Itanium-mangled with a hash segment, which is dropped.
        #expect(demangler.demangle("_ZN4core3fmt5write17h0123456789abcdefE") == "core::fmt::write")
        #expect(demangler.demangle("worker_loop") == "worker_loop")
        #expect(demangler.demangle("_Znot_really") == "_Znot_really")
    }

    @Test func swiftNamesNeedSwiftDemangleOnThePath() {
        var demangler = Demangler()
        let name = "$s4main5QueueC4pushyySiF"
        if Demangler.findOnPath("swift-demangle") != nil {
            #expect(demangler.demangle(name) == "Queue.push(_:)")
        } else {
            #expect(demangler.demangle(name) == name)
        }
    }
}

/// Rust v0 names (`_R…`), which Rust's std is built with: the futex call sites
/// of a Rust program land in std (`…Mutex>::lock_contended`).
struct RustV0DemanglerTests {
    @Test func namesAsBinutilsPrintsThemWithoutCrateHashes() {
        var demangler = Demangler()
        #expect(demangler.demangle("_RNvMNtNtNtNtCs1234_3std3sys4sync5mutex5futexNtB2_5Mutex14lock_contended")
            == "<std::sys::sync::mutex::futex::Mutex>::lock_contended")
        // A vendor suffix is not part of the name; a malformed or truncated name stays raw.
        #expect(demangler.demangle("_RNvCs1234_7mycrate4main.llvm.42") == "mycrate::main")
        #expect(demangler.demangle("_RNvCs1234_7mycrate9") == "_RNvCs1234_7mycrate9")
        #expect(demangler.demangle("_RB0_") == "_RB0_")
        #expect(demangler.demangle("_Rubbish") == "_Rubbish")
    }

    /// Every v0 symbol of a Rust program (std, core, alloc, rustc_demangle,
    /// closures, shims, trait impls, dyn types, generics) against binutils'
    /// c++filt, an independent demangler, with its `[crate hash]` dropped.
    @Test func everySymbolOfARustProgramMatchesCxxFilt() throws {
        let rustc = try #require(Self.tool("rustc"), "rustc not found (tools/setup installs it)")
        let cxxfilt = try #require(Self.tool("c++filt"), "c++filt (binutils) not found")
        let nm = try #require(Self.tool("nm"), "nm (binutils) not found")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gtrace-v0-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../tools/workloads/rust_locks.rs").standardized.path
        let build = try Self.run(rustc, ["-O", "-C", "symbol-mangling-version=v0", "-o", "\(dir)/rl", source])
        try #require(build.status == 0, "\(build.output)")
        let symbols = try Self.run(nm, ["-j", "\(dir)/rl"]).output
            .split(separator: "\n").map(String.init).filter { $0.hasPrefix("_R") }
        let names = Array(Set(symbols)).sorted()
        let filtered = try Self.run(cxxfilt, [], input: names.joined(separator: "\n") + "\n").output
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try #require(filtered.count >= names.count)
        let crateHash = try Regex("\\[[0-9a-f]+\\]")
        var demangler = Demangler()
        var compared = 0
        var mismatches: [String] = []
        for (name, theirs) in zip(names, filtered) where theirs != name {
            compared += 1
            let expected = theirs.replacing(crateHash, with: "")
            let ours = demangler.demangle(name)
            if ours != expected { mismatches.append("\(name)\n  ours:    \(ours)\n  c++filt: \(expected)") }
        }
        #expect(compared >= 300, "only \(compared) v0 symbols demangled by c++filt")
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(compared) differ:\n\(mismatches.prefix(5).joined(separator: "\n"))")
    }

    static func tool(_ name: String) -> String? {
        let env = ProcessInfo.processInfo.environment
        let dirs = (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init) + ["\(env["HOME"] ?? "/root")/.cargo/bin"]
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ tool: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let out = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = out
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let input {
            // Write from another thread: c++filt answers line by line and would fill the output pipe.
            let writer = Thread {
                inPipe.fileHandleForWriting.write(Data(input.utf8))
                try? inPipe.fileHandleForWriting.close()
            }
            writer.start()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
