import Foundation

/// The CPython interpreters the GIL tests run on: every pyenv 3.8–3.13 build
/// present, Debian's /usr/bin/python3.11 (libpython linked statically), and
/// Debian sid's 3.14 and 3.15 that tools/setup-python-sid puts in a private
/// prefix ($GTRACE_PYTHON_SID, default ~/.cache/gtrace/python-sid).
/// `GTRACE_REQUIRE_PYTHONS=3.8,3.9,…` (set by .ci/run on the machine image)
/// turns a missing version into a test failure instead of a skip.
enum PythonVersions {
    struct Interpreter: CustomStringConvertible, Sendable {
        let version: String      // "3.11"
        let path: String
        var description: String { "\(version) \(path)" }
    }

    static let wanted = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]

    /// CPython ≤ 3.13: its locks are semaphores, whose every acquisition and hold is
    /// recorded (3.14's PyMutex: contended waits only).
    static var withRecordedPythonLockHolds: [Interpreter] { installed.filter { !["3.14", "3.15"].contains($0.version) } }

    static let installed: [Interpreter] = {
        var found: [Interpreter] = []
        let root = (ProcessInfo.processInfo.environment["PYENV_ROOT"] ?? NSHomeDirectory() + "/.pyenv") + "/versions"
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
        for version in wanted {
            // The newest patch release of each minor version (3.X.Y, not 3.X.Yt or a virtualenv).
            let candidates = entries.filter { entry in
                entry.hasPrefix(version + ".") && entry.dropFirst(version.count + 1).allSatisfy(\.isNumber)
            }
            if let best = candidates.max(by: { patch($0) < patch($1) }) {
                let path = "\(root)/\(best)/bin/python3"
                if FileManager.default.isExecutableFile(atPath: path) { found.append(Interpreter(version: version, path: path)) }
            }
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/python3.11") {
            found.append(Interpreter(version: "3.11", path: "/usr/bin/python3.11"))
        }
        let sid = ProcessInfo.processInfo.environment["GTRACE_PYTHON_SID"] ?? NSHomeDirectory() + "/.cache/gtrace/python-sid"
        for version in ["3.14", "3.15"] where !found.contains(where: { $0.version == version }) {
            let path = "\(sid)/usr/bin/python\(version)"
            if FileManager.default.isExecutableFile(atPath: path) { found.append(Interpreter(version: version, path: path)) }
        }
        return found
    }()

    /// 3.14+: threading.Lock & co. are PyMutex (parking lot), not POSIX semaphores.
    static func usesPyMutexLocks(_ python: Interpreter) -> Bool {
        let parts = python.version.split(separator: ".").compactMap { Int($0) }
        return parts.count == 2 && (parts[0], parts[1]) >= (3, 14)
    }

    /// Versions that are required here but absent.
    static var missingRequired: [String] {
        let required = (ProcessInfo.processInfo.environment["GTRACE_REQUIRE_PYTHONS"] ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let present = Set(installed.map(\.version))
        return required.filter { !present.contains($0) }
    }

    /// Versions of `wanted` with no interpreter here (reported, not silently skipped).
    static var absent: [String] {
        let present = Set(installed.map(\.version))
        return wanted.filter { !present.contains($0) }
    }

    private static func patch(_ name: String) -> Int {
        Int(name.split(separator: ".").last ?? "") ?? 0
    }
}
