import Foundation

/// What `gtrace record` knows of a recording that is not in the session's own
/// files: written as `<session>/recorder.json` right after the spawn, so that
/// `gtrace recover` can merge a session whose recorder died (RELIABILITY item 3).
struct SessionFacts: Codable {
    static let fileName = "recorder.json"

    var recorderPid: Int32
    var rootPid: Int32
    var command: [String]
    var epochMonotonicNanoseconds: UInt64
    var epochRealtimeNanoseconds: UInt64
    var cpus: Int
    var host: String
    var gtraceVersion: String

    func write(session: String) {
        guard let data = try? JSONEncoder().encode(self) else { return }
        // Written under a temporary name and renamed: a reader never sees half of it.
        let path = session + "/" + Self.fileName
        if FileManager.default.createFile(atPath: path + ".tmp", contents: data, attributes: [.posixPermissions: 0o600]) {
            rename(path + ".tmp", path)
        }
    }

    static func read(session: String) -> SessionFacts? {
        guard let data = FileManager.default.contents(atPath: session + "/" + fileName) else { return nil }
        return try? JSONDecoder().decode(SessionFacts.self, from: data)
    }
}
