import GtraceAnalysis
import GtraceFormat

/// The Python code of each thread at its GIL events, as JSON string contents
/// for the args of Chrome GIL slices: "spin app.py:5 ← worker app.py:13".
struct ChromePythonLocations {
    private let tables: TraceTables
    let enabled: Bool
    private var lastGIL: [Int: Bool] = [:]  // thread → last GIL event was an acquisition
    private(set) var acquiredAt: [Int: [UInt8]] = [:]
    private(set) var releasedAt: [Int: [UInt8]] = [:]
    private var encodedStacks: [PythonStack: [UInt8]] = [:]

    init(tables: TraceTables) {
        self.tables = tables
        enabled = !tables.pythonCodes.isEmpty && !tables.gils.isEmpty
    }

    static func isGILRelease(_ e: TraceEvent, tables: TraceTables) -> Bool {
        if case let .lockRelease(lock, _) = e.kind, tables.locks.indices.contains(lock), tables.locks[lock].kind == .gil { return true }
        return false
    }

    mutating func consume(_ e: TraceEvent) {
        switch e.kind {
        case let .lockAcquire(lock, _), let .lockAcquired(lock, _):
            if tables.locks.indices.contains(lock), tables.locks[lock].kind == .gil { lastGIL[e.thread] = true }
        case let .lockRelease(lock, _):
            if tables.locks.indices.contains(lock), tables.locks[lock].kind == .gil { lastGIL[e.thread] = false }
        case let .pythonLocation(frames):
            guard let acquired = lastGIL.removeValue(forKey: e.thread) else { return }
            let text = encodedDescription(frames)
            if acquired { acquiredAt[e.thread] = text } else { releasedAt[e.thread] = text }
        default:
            break
        }
    }

    /// `describe(frames)` as JSON string contents, made once per distinct stack:
    /// a program's GIL events repeat a few stacks many times.
    private mutating func encodedDescription(_ frames: PythonStack) -> [UInt8] {
        if let known = encodedStacks[frames] { return known }
        let text = Array(JSONText.encoded(describe(frames)).dropFirst().dropLast())
        if encodedStacks.count < 100_000 { encodedStacks[frames] = text }
        return text
    }

    func describe(_ frames: PythonStack) -> String {
        if frames.isEmpty { return "(no Python frame)" }
        return frames.map { f in
            guard let index = f.code, tables.pythonCodes.indices.contains(index) else { return "(unknown code)" }
            let c = tables.pythonCodes[index]
            return "\(c.qualifiedName) \(c.baseName):\(f.line)"
        }.joined(separator: " ← ")
    }
}
