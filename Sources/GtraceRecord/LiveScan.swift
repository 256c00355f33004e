import CGtraceSystem
import Foundation
import GtraceFormat
#if canImport(Glibc)
import Glibc
#endif

/// Scans, while the command runs, the chunks its threads have completed, so
/// that the merge scans only the rest (`SessionScan.init(session:threads:live:)`).
/// A chunk is scanned once the thread has moved on to a later one and every
/// slot of it is written (`ThreadRecords.isComplete`): then it can change no
/// more. The scan keeps raw timestamps (the clock fit is made at the end), so
/// its result is the one the merge would find; the merge continues a thread's
/// scan only when the chunks it finds start with the ones scanned here
/// (a thread whose chunks went partly to the drop box is scanned again).
///
/// Runs on a thread of idle priority (SCHED_IDLE): it takes CPU time nothing
/// else wants, such as the core a GIL-bound or single-threaded program leaves
/// idle, and gives way to the traced program. The chunks it scanned stay
/// mapped for the merge (their pages in already) up to `keptBytes`; past that
/// each is unmapped after its scan.
/// `GTRACE_LIVE_SCAN=0` turns it off.
final class LiveScan: @unchecked Sendable {
    /// A thread's scan so far and where it stands.
    struct Part {
        var scan: SessionScan
        var state: ThreadScanState
    }

    private let directory: String
    private var parts: [ThreadKey: Part] = [:]
    /// The chunks scanned, still mapped, by path: the merge reads them again
    /// without faulting their pages in.
    private(set) var mapped: [String: MappedFile] = [:]
    private var mappedBytes = 0
    /// Arena files by path, mapped at their first look (their size is set
    /// before any slot is claimed), read again at every pass for new slots.
    private var arenas: [String: (image: SessionContents.ImageKey, file: MappedFile)] = [:]
    /// At most this much stays mapped from the run to the merge (a merge of
    /// more than SessionReader.residentLimit drops each chunk's pages once
    /// read, these too): the recorder's memory stays far under 1 GB.
    static let keptBytes = SessionReader.residentLimit / 2
    private let stopLock = NSLock()
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)
    private var running = false
    /// The scanning thread's tid while it runs at idle priority.
    private var idleTid: Int32 = -1

    init?(session: String) {
        if let off = getenv("GTRACE_LIVE_SCAN"), String(cString: off) == "0" { return nil }
        directory = session
    }

    func start() {
        running = true
        let thread = Thread { [self] in
            let tid = gtrace_set_idle_priority()
            stopLock.lock()
            idleTid = tid
            stopLock.unlock()
            // Every 10 ms while chunks complete (a busy thread fills a 2 MiB
            // chunk in a few ms), backing off to 1.28 s while none do (a
            // sleeping program: under one wake-up a second).
            var interval = 10_000
            while !isStopped {
                interval = pass() > 0 ? 10_000 : min(1_280_000, interval * 2)
                _ = wake.wait(timeout: .now() + .microseconds(interval))
            }
            finished.signal()
        }
        thread.name = "gtrace live scan"
        thread.start()
    }

    /// Stops scanning (again: nothing more); returns each thread's scan of its completed chunks.
    func stop() -> [ThreadKey: Part] {
        stopLock.lock()
        stopped = true
        // Its last chunk must not wait for an idle core (a machine busy with other work).
        if idleTid > 0 { _ = gtrace_set_normal_priority(idleTid) }
        stopLock.unlock()
        wake.signal()
        if running {
            finished.wait()
            running = false
        }
        return parts
    }

    private var isStopped: Bool {
        stopLock.lock()
        defer { stopLock.unlock() }
        return stopped
    }

    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name) ?? 19

    /// A directory entry's name, read in place up to its NUL. An entry is only as
    /// long as its name (d_reclen): copying d_name's whole 256 bytes read past the
    /// end of readdir's buffer when an entry ended a page (a segfault in 1 of 3
    /// recordings of 500 Python threads).
    static func name(of entry: UnsafePointer<dirent>) -> String {
        String(cString: UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self))
    }

    /// One look at the session directory; returns the chunks scanned.
    private func pass() -> Int {
        // A chunk file by its path, or an arena's slot by its `slotPath`, its arena and index.
        var chunksOf: [ThreadKey: [(number: Int, path: String, slot: (arena: MappedFile, index: Int)?)]] = [:]
        guard let listing = opendir(directory) else { return 0 }
        while let entry = readdir(listing) {
            let name = Self.name(of: entry)
            if let (key, number) = SessionReader.chunkFile(name) {
                chunksOf[key, default: []].append((number, directory + "/" + name, nil))
            } else if arenas[name] == nil, let image = ArenaFile.image(ofName: name),
                      let file = try? MappedFile(path: directory + "/" + name, followSymlinks: false), file.bytes.count > 0 {
                arenas[name] = (image, file)
            }
        }
        closedir(listing)
        for (name, arena) in arenas {
            for (tid, index) in ArenaFile.slots(in: arena.file, image: arena.image) {
                let path = ArenaFile.slotPath(directory + "/" + name, index: index)
                chunksOf[ThreadKey(image: arena.image, tid: tid), default: []].append((0, path, (arena.file, index)))
            }
        }
        var scanned = 0
        for (key, chunks) in chunksOf {
            // A tid reused in one image has two chunk 0s: the merge orders them.
            guard Set(chunks.map(\.number)).count == chunks.count else { continue }
            let done = parts[key]?.state.chunks.last ?? -1
            // Never the thread's last chunk: it may still be written.
            for (number, path, slot) in chunks.sorted(by: { $0.number < $1.number }).filter({ $0.number > done }).dropLast() {
                if isStopped { return scanned }
                // A slot's mapping is made only for the slots scanned, not for every slot at every pass.
                guard let chunk = slot.flatMap({ ArenaFile.chunk(in: $0.arena, index: $0.index) }) ?? (try? MappedFile(path: path, followSymlinks: false)),
                      SessionContents.ThreadRecords.isComplete(chunk) else { break }
                var part = parts[key] ?? Part(scan: SessionScan(), state: ThreadScanState(key: key))
                let keep = mappedBytes + chunk.bytes.count <= Self.keptBytes
                part.scan.scan(chunk, number: number, dropsPages: !keep, into: &part.state)
                parts[key] = part
                if keep {
                    mapped[path] = chunk
                    mappedBytes += chunk.bytes.count
                }
                scanned += 1
            }
        }
        return scanned
    }
}
