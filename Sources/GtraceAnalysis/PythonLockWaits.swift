import GtraceFormat

/// Where the program's own code waited for Python locks (docs/METRICS.md,
/// "Python lock waits by the program's line"). A `threading.Condition` hands
/// each waiter a new lock (a `Semaphore`, an `Event`, a `queue.Queue` wait
/// on one), and `Thread.join` waits on the thread's own: the waits are spread
/// over many lock rows, each named by a line of `threading.py`. Grouped by the
/// innermost recorded frame outside the standard library, they name the line
/// of the program that waited and the library call it made there.
public struct PythonLockWaitSite: Sendable, Codable {
    public var pid: Int32
    /// "app.py:42 in worker": the innermost frame outside the standard library
    /// (the outermost recorded frame when all of them are in it).
    public var site: String
    /// The library function called at `site` ("Semaphore.acquire"); nil when the
    /// site's own code waited on the lock.
    public var via: String?
    public var waits: Int
    public var threads: Int
    public var waitNanoseconds: UInt64
    public var maxWaitNanoseconds: UInt64
}

/// Collects Python lock waits with the stack their thread recorded when it
/// released the GIL to wait (the location that precedes the wait); the lock
/// interval tracker reports each wait's end (a PyMutex's at its futex wake-up).
struct PythonLockWaitAccumulator {
    private let pythonLocks: Set<Int>
    private let codes: [PythonCode]
    private let threadProcess: [Int]
    private let pids: [Int32]
    /// By thread (an array: a location is stored at every GIL event).
    private var lastFrames: [PythonStack?]
    private var waiting: [Int: (lock: Int, frames: PythonStack?)] = [:]
    /// Waits whose release location had no frame (a C call between two Python
    /// calls), placed at the thread's next location: where it resumed.
    private var unplaced: [Int: [UInt64]] = [:]
    private struct Key: Hashable {
        var process: Int
        var site: String
        var via: String?
    }
    private var totals: [Key: (site: PythonLockWaitSite, threads: Set<Int>)] = [:]
    private var labels: [PythonFrame: (site: String, library: Bool, function: String)] = [:]

    init(tables: TraceTables) {
        // 3.14+ locks are PyMutex words, futex waits to the tracker (named so by the recorder).
        let pyMutexes = tables.lockNames.filter { $0.name.hasPrefix(LockName.pyMutexPrefix) }.map(\.lock)
        pythonLocks = Set(tables.locks.filter { $0.kind == .pythonLock }.map(\.index)).union(pyMutexes)
        codes = tables.pythonCodes
        threadProcess = tables.threads.map(\.process)
        pids = tables.processes.map(\.pid)
        lastFrames = Array(repeating: nil, count: tables.threads.count)
    }

    var isEnabled: Bool { !pythonLocks.isEmpty && !codes.isEmpty }

    mutating func consume(_ e: TraceEvent) {
        switch e.kind {
        case let .pythonLocation(frames):
            guard lastFrames.indices.contains(e.thread) else { return }
            lastFrames[e.thread] = frames
            if !unplaced.isEmpty, !frames.isEmpty, let waits = unplaced.removeValue(forKey: e.thread) {
                for w in waits { add(thread: e.thread, frames: frames, nanoseconds: w) }
            }
        case let .lockWait(lock, _) where pythonLocks.contains(lock):
            let frames = lastFrames.indices.contains(e.thread) ? lastFrames[e.thread] : nil
            waiting[e.thread] = (lock, frames?.isEmpty == false ? frames : nil)
        default:
            break
        }
    }

    /// A wait of `thread` for `lock` ended (the lock interval tracker's report).
    mutating func waitEnded(thread: Int, lock: Int, nanoseconds: UInt64) {
        guard let w = waiting[thread], w.lock == lock else { return }
        waiting[thread] = nil
        guard let frames = w.frames else {
            unplaced[thread, default: []].append(nanoseconds)
            return
        }
        add(thread: thread, frames: frames, nanoseconds: nanoseconds)
    }

    private mutating func add(thread: Int, frames: PythonStack?, nanoseconds: UInt64) {
        guard threadProcess.indices.contains(thread) else { return }
        let (site, via) = frames.map { place($0) } ?? (Self.noFrame, nil)
        let key = Key(process: threadProcess[thread], site: site, via: via)
        let pid = pids.indices.contains(key.process) ? pids[key.process] : 0
        var entry = totals.removeValue(forKey: key) ?? (PythonLockWaitSite(pid: pid, site: site, via: via, waits: 0, threads: 0,
                                                       waitNanoseconds: 0, maxWaitNanoseconds: 0), [])
        entry.site.waits += 1
        entry.site.waitNanoseconds = entry.site.waitNanoseconds.adding(saturating: nanoseconds)
        entry.site.maxWaitNanoseconds = max(entry.site.maxWaitNanoseconds, nanoseconds)
        entry.threads.insert(thread)
        entry.site.threads = entry.threads.count
        totals[key] = entry
    }

    static let noFrame = "(no Python frame)"

    /// Sites by total wait, highest first (waits never followed by a location: no frame).
    mutating func statistics() -> [PythonLockWaitSite] {
        for (thread, waits) in unplaced { for w in waits { add(thread: thread, frames: nil, nanoseconds: w) } }
        unplaced = [:]
        // Ties in a fixed order (the dictionary's is not): site, then pid, then the call.
        return totals.values.map(\.site).sorted {
            ($0.waitNanoseconds, $1.site, $1.pid, $1.via ?? "") > ($1.waitNanoseconds, $0.site, $0.pid, $0.via ?? "")
        }
    }

    /// The innermost frame outside the standard library and the library function it called.
    private mutating func place(_ frames: PythonStack) -> (String, String?) {
        let named = frames.map { label($0) }
        let i = named.firstIndex { !$0.library } ?? named.count - 1
        return (named[i].site, i > 0 ? named[i - 1].function : nil)
    }

    private mutating func label(_ f: PythonFrame) -> (site: String, library: Bool, function: String) {
        if let known = labels[f] { return known }
        let made: (site: String, library: Bool, function: String)
        if let index = f.code, codes.indices.contains(index) {
            let c = codes[index]
            made = (c.site(line: f.line), Self.isStandardLibrary(c.file), c.qualifiedName)
        } else {
            made = ("(unknown code)", true, "(unknown code)")
        }
        labels[f] = made
        return made
    }

    /// CPython's own modules: frozen ones ("<frozen importlib._bootstrap>") and
    /// those under a `lib/pythonX.Y` directory outside site- or dist-packages.
    static func isStandardLibrary(_ file: String) -> Bool {
        if file.hasPrefix("<frozen") { return true }
        guard file.contains("/lib/python") || file.contains("/lib64/python") else { return false }
        return !file.contains("/site-packages/") && !file.contains("/dist-packages/")
    }
}
