import CGtraceFormat
import CGtraceSystem
import Foundation
import GtraceFormat
import GtraceSymbols

/// What the runtime left in a session directory, per process image and thread.
struct SessionContents {
    struct ImageKey: Hashable, Comparable {
        var pid: Int32
        var image: Int
        static func < (a: ImageKey, b: ImageKey) -> Bool { (a.pid, a.image) < (b.pid, b.image) }
    }

    struct Image {
        var key: ImageKey
        var ppid: Int32 = 0
        var executable = ""
        var arguments: [String] = []
        var startTSC: UInt64?
    }

    /// One thread's records from all its chunks, in chunk order.
    struct ThreadRecords {
        var image: ImageKey
        var tid: Int32
        /// Which thread of the image with this tid (the kernel reuses a tid once its thread has ended).
        var generation = 0
        var key: ThreadKey { ThreadKey(image: image, tid: tid, generation: generation) }
        private(set) var chunks: [MappedFile]
        /// The chunks' numbers (`<pid>.<image>.<tid>.<number>.buf`), ascending.
        private(set) var chunkNumbers: [Int]
        var lost: UInt64 = 0
        /// errno of the chunk creation that failed (EDQUOT: the GTRACE_MAX_MB budget), 0 if none:
        /// every event of the thread after its last record is in `lost`.
        var brokenErrno: Int32 = 0

        /// `chunks`: (number, file) in ascending number order.
        init(image: ImageKey, tid: Int32, chunks: [(number: Int, file: MappedFile)]) {
            self.image = image
            self.tid = tid
            self.chunks = chunks.map(\.file)
            chunkNumbers = chunks.map(\.number)
        }

        /// True in a large session: each chunk's pages leave the process's
        /// resident memory once read (`SessionReader.residentLimit`).
        var dropsPages = false

        /// A chunk's written slots (the records `forEach` reads and the few
        /// empty ones, a record being written when the process died): as many
        /// as its header says, that fit in the file.
        static func slots(in chunk: MappedFile) -> Int {
            let headerSize = MemoryLayout<gtrace_buffer_header>.size
            guard chunk.bytes.count >= headerSize else { return 0 }
            let header = chunk.bytes.loadUnaligned(as: gtrace_buffer_header.self)
            let fits = UInt64((chunk.bytes.count - headerSize) / MemoryLayout<gtrace_raw_record>.size)
            return Int(min(header.reserved, header.capacity, fits))
        }

        /// Slot `i` of a chunk (`i` < `slots(in:)`).
        static func record(_ i: Int, in chunk: MappedFile) -> gtrace_raw_record {
            chunk.bytes.loadUnaligned(fromByteOffset: MemoryLayout<gtrace_buffer_header>.size + i * MemoryLayout<gtrace_raw_record>.size,
                                      as: gtrace_raw_record.self)
        }

        /// Calls `body` for every written record, in buffer order.
        func forEach(_ body: (gtrace_raw_record) -> Void) {
            for chunk in chunks { Self.forEach(in: chunk, dropsPages: dropsPages, body) }
        }

        /// Calls `body` for every written record of one chunk, in buffer order.
        static func forEach(in chunk: MappedFile, dropsPages: Bool, _ body: (gtrace_raw_record) -> Void) {
            let headerSize = MemoryLayout<gtrace_buffer_header>.size
            let recordSize = MemoryLayout<gtrace_raw_record>.size
            let bytes = chunk.bytes
            for i in 0..<slots(in: chunk) {
                let record = bytes.loadUnaligned(fromByteOffset: headerSize + i * recordSize, as: gtrace_raw_record.self)
                if record.kind != 0 { body(record) }
            }
            if dropsPages { chunk.dropResidentPages() }
        }

        /// True when the chunk can change no more: every slot handed out and
        /// written (a writer fills its kind last). A thread leaves a chunk only
        /// when it is full, but a record it began before a signal handler
        /// rotated to the next chunk may still be unwritten.
        static func isComplete(_ chunk: MappedFile) -> Bool {
            let headerSize = MemoryLayout<gtrace_buffer_header>.size
            let recordSize = MemoryLayout<gtrace_raw_record>.size
            guard chunk.bytes.count >= headerSize else { return false }
            let header = chunk.bytes.loadUnaligned(as: gtrace_buffer_header.self)
            let count = slots(in: chunk)
            guard header.capacity > 0, header.reserved >= header.capacity, count == Int(header.capacity) else { return false }
            let kindOffset = MemoryLayout<gtrace_raw_record>.offset(of: \gtrace_raw_record.kind)!
            for i in 0..<count where chunk.bytes.loadUnaligned(fromByteOffset: headerSize + i * recordSize + kindOffset, as: UInt16.self) == 0 {
                return false
            }
            gtrace_acquire_fence()
            return true
        }
    }

    /// What an exec of this pid was asked to run (exec_note.c), in file order.
    struct ExecNote {
        var tsc: UInt64
        var path: String
        var arguments: [String]
    }

    /// An ELF object loaded in a process (objects.c), as seen at a snapshot.
    struct LoadedObject: Hashable {
        var loadBias: UInt64
        /// Empty for the main program (its path is the image's executable).
        var path: String
        var buildID: String?
        var segments: [(virtualAddress: UInt64, memorySize: UInt64)]

        static func == (a: LoadedObject, b: LoadedObject) -> Bool { a.loadBias == b.loadBias && a.path == b.path }
        func hash(into hasher: inout Hasher) {
            hasher.combine(loadBias)
            hasher.combine(path)
        }

        /// The link-time address of a run-time address inside this object.
        func linkAddress(of address: UInt64) -> UInt64? {
            guard address >= loadBias else { return nil }
            let link = address - loadBias
            return segments.contains { link >= $0.virtualAddress && link < $0.virtualAddress + $0.memorySize } ? link : nil
        }
    }

    var images: [ImageKey: Image] = [:]
    var threads: [ThreadRecords] = []
    /// Ticks the threads spent setting up their chunks (headers' `setup_ticks`), and the chunks.
    var bufferSetupTicks: UInt64 = 0
    var bufferChunks = 0
    /// Of those, the first chunks read from arenas' slots (arena.c).
    var arenaSlots = 0
    var execNotes: [Int32: [ExecNote]] = [:]
    /// File locks' paths by lock id (`<pid>.files`, filelocks.c): the first path each id was named by.
    var fileLockPaths: [UInt64: String] = [:]
    /// Per image, every object its snapshots saw (the same object once).
    var objects: [ImageKey: [LoadedObject]] = [:]
    var warnings: [String] = []
    /// The runtime's own messages (`<pid>.diag`), as "process PID: message"; they go in the trace.
    var runtimeMessages: [String] = []
}

/// Reads a session directory written by the preload runtime.
enum SessionReader {
    /// Sessions larger than this (16 M records) are read a chunk at a time:
    /// each pass over the records maps a chunk's pages again and drops them
    /// after it. That costs page faults, ~5 ns per record and pass here, but
    /// keeps the merge's resident memory from growing with the session (the
    /// mapped session was 3.1 GB of the recorder's 3.5 GB at 100 M events).
    static let residentLimit = 512 << 20

    /// One chunk of a thread as read: its number, mapping, and its header's loss.
    typealias Chunk = (chunk: Int, file: MappedFile, lost: UInt64, brokenErrno: Int32)

    /// A whole session file; never through a symbolic link (the tree wrote these files).
    static func sessionFile(_ path: String) -> Data? {
        guard let file = try? MappedFile(path: path, followSymlinks: false) else { return nil }
        return file.bytes.isEmpty ? Data() : Data(file.bytes)
    }

    /// Files of the session directory and of its drop box (written by
    /// processes whose uid changed: only regular files are read there).
    /// `mapped`: chunk files the recorder mapped and read already (LiveScan),
    /// by path (an arena's slot by `ArenaFile.slotPath`): their pages are in
    /// this process already.
    static func read(directory: String, dropBox: String? = nil, mapped: [String: MappedFile] = [:]) -> SessionContents {
        var contents = SessionContents()
        var entries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).map { (name: $0, path: directory + "/" + $0) }
        if let dropBox {
            let box = directory + "/" + dropBox
            for name in (try? FileManager.default.contentsOfDirectory(atPath: box)) ?? [] {
                var st = stat()
                let path = box + "/" + name
                if lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG { entries.append((name, path)) }
            }
        }
        entries.sort { ($0.name, $0.path) < ($1.name, $1.path) }
        var chunks: [String: [Chunk]] = [:]
        var threadKeys: [String: (SessionContents.ImageKey, Int32)] = [:]
        func add(_ file: MappedFile, number: Int, of thread: ThreadKey) {
            let id = "\(thread.image.pid).\(thread.image.image).\(thread.tid)"
            threadKeys[id] = (thread.image, thread.tid)
            var lost: UInt64 = 0, brokenErrno: Int32 = 0
            if file.bytes.count >= MemoryLayout<gtrace_buffer_header>.size {
                let header = file.bytes.loadUnaligned(as: gtrace_buffer_header.self)
                lost = header.lost
                brokenErrno = Int32(truncatingIfNeeded: header.broken_errno)
                contents.bufferSetupTicks = contents.bufferSetupTicks.addingReportingOverflow(UInt64(header.setup_ticks)).partialValue
                contents.bufferChunks += 1
            }
            chunks[id, default: []].append((number, file, lost, brokenErrno))
        }
        for (name, path) in entries {
            let parts = name.split(separator: ".")
            if parts.count == 3, parts[2] == "meta", let pid = Int32(parts[0]), let image = Int(parts[1]) {
                let key = SessionContents.ImageKey(pid: pid, image: image)
                contents.images[key] = readMeta(path: path, key: key, warnings: &contents.warnings)
            } else if parts.count == 3, parts[2] == "objects", let pid = Int32(parts[0]), let image = Int(parts[1]) {
                contents.objects[SessionContents.ImageKey(pid: pid, image: image), default: []] += readObjects(path: path)
            } else if parts.count == 2, parts[1] == "exec", let pid = Int32(parts[0]) {
                contents.execNotes[pid, default: []] += readExecNotes(path: path)
            } else if parts.count == 2, parts[1] == "files", Int32(parts[0]) != nil {
                for (id, path) in readFileLockNames(path: path) where contents.fileLockPaths[id] == nil { contents.fileLockPaths[id] = path }
            } else if parts.count == 2, parts[1] == "diag", let pid = Int32(parts[0]) {
                let text = String(decoding: sessionFile(path) ?? Data(), as: UTF8.self)
                for line in text.split(separator: "\n").prefix(100) { contents.runtimeMessages.append("process \(pid): \(line)") }
            } else if let (thread, chunk) = chunkFile(name) {
                guard let file = mapped[path] ?? (try? MappedFile(path: path, followSymlinks: false)) else {
                    contents.warnings.append("session file \(name) unreadable; its events are lost")
                    continue
                }
                add(file, number: chunk, of: thread)
            } else if let image = ArenaFile.image(ofName: name) {
                guard let file = try? MappedFile(path: path, followSymlinks: false) else {
                    contents.warnings.append("session file \(name) unreadable; its events are lost")
                    continue
                }
                for (tid, index) in ArenaFile.slots(in: file, image: image) {
                    guard let slot = mapped[ArenaFile.slotPath(path, index: index)] ?? ArenaFile.chunk(in: file, index: index) else { continue }
                    add(slot, number: 0, of: ThreadKey(image: image, tid: tid))
                    contents.arenaSlots += 1
                }
            }
        }
        let sessionBytes = chunks.values.reduce(0) { $0 + $1.reduce(0) { $0 + $1.file.bytes.count } }
        for (id, list) in chunks.sorted(by: { $0.key < $1.key }) {
            guard let (image, tid) = threadKeys[id] else { continue }
            for (generation, ordered) in threads(inThreadOrder(list)).enumerated() {
                var thread = SessionContents.ThreadRecords(image: image, tid: tid, chunks: ordered.map { ($0.chunk, $0.file) })
                thread.generation = generation
                thread.dropsPages = sessionBytes > residentLimit
                thread.lost = ordered.reduce(0) { $0 + $1.lost }
                thread.brokenErrno = ordered.last { $0.brokenErrno != 0 }?.brokenErrno ?? 0
                contents.threads.append(thread)
            }
            if contents.images[image] == nil {
                contents.images[image] = SessionContents.Image(key: image)
            }
        }
        return contents
    }

    /// A thread's chunks in the order written: by number; and when a number
    /// repeats (a tid reused in one process image: each thread has a chunk 0,
    /// and the later one's files take the next free numbers), by first record.
    static func inThreadOrder(_ list: [Chunk]) -> [Chunk] {
        let byNumber = list.sorted { $0.chunk < $1.chunk }
        guard zip(byNumber, byNumber.dropFirst()).contains(where: { $0.chunk == $1.chunk }) else { return byNumber }
        return byNumber.map { (firstTSC(of: $0.file), $0) }.sorted { ($0.0, $0.1.chunk) < ($1.0, $1.1.chunk) }.map(\.1)
    }

    /// One tid's chunks, in order, split into its threads: a thread's first
    /// chunk begins with its THREAD_START (after the chunk's clock pair), which
    /// no later chunk of a thread does.
    static func threads(_ ordered: [Chunk]) -> [ArraySlice<Chunk>] {
        var starts = [0]
        for (i, chunk) in ordered.enumerated().dropFirst() where beginsThread(chunk.file) { starts.append(i) }
        return zip(starts, starts.dropFirst() + [ordered.count]).map { ordered[$0..<$1] }
    }

    /// True when one of a chunk's first three written records is a THREAD_START.
    static func beginsThread(_ chunk: MappedFile) -> Bool {
        (0..<min(3, SessionContents.ThreadRecords.slots(in: chunk))).contains {
            SessionContents.ThreadRecords.record($0, in: chunk).kind == UInt16(GTRACE_RAW_THREAD_START.rawValue)
        }
    }

    /// The timestamp of a chunk's first written record (UInt64.max: none).
    static func firstTSC(of chunk: MappedFile) -> UInt64 {
        (0..<SessionContents.ThreadRecords.slots(in: chunk)).lazy.map { SessionContents.ThreadRecords.record($0, in: chunk) }
            .first { $0.kind != 0 }?.tsc ?? .max
    }

    /// Entries of struct gtrace_object_entry, each followed by path, build-id,
    /// segments; read in place from the mapped file (a process's file lists
    /// every object at each snapshot: hundreds of processes, thousands of entries).
    private static func readObjects(path: String) -> [SessionContents.LoadedObject] {
        guard let file = try? MappedFile(path: path, followSymlinks: false) else { return [] }
        let bytes = file.bytes
        var seen = Set<SessionContents.LoadedObject>()
        var objects: [SessionContents.LoadedObject] = []
        var at = 0
        func u64(_ i: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) }
        func u16(_ i: Int) -> Int { Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt16.self))) }
        while at + 24 <= bytes.count {
            let bias = u64(at + 8)
            let nameLength = u16(at + 16), idLength = u16(at + 18), segmentCount = u16(at + 20)
            let end = at + 24 + nameLength + idLength + segmentCount * 16
            guard end <= bytes.count else { break }  // a cut entry ends the file
            let name = String(decoding: bytes[(at + 24)..<(at + 24 + nameLength)], as: UTF8.self)
            let id = bytes[(at + 24 + nameLength)..<(at + 24 + nameLength + idLength)]
            var segments: [(UInt64, UInt64)] = []
            for s in 0..<segmentCount {
                let base = at + 24 + nameLength + idLength + s * 16
                segments.append((u64(base), u64(base + 8)))
            }
            let object = SessionContents.LoadedObject(loadBias: bias, path: name, buildID: id.isEmpty ? nil : hexText(id),
                                                       segments: segments)
            if seen.insert(object).inserted { objects.append(object) }
            at = end
        }
        return objects
    }

    /// The thread and chunk number of a chunk file's name, "pid.image.tid.chunk.buf".
    static func chunkFile(_ name: String) -> (thread: ThreadKey, number: Int)? {
        let parts = name.split(separator: ".")
        guard parts.count == 5, parts[4] == "buf", let pid = Int32(parts[0]), let image = Int(parts[1]),
              let tid = Int32(parts[2]), let number = Int(parts[3]) else { return nil }
        return (ThreadKey(image: SessionContents.ImageKey(pid: pid, image: image), tid: tid), number)
    }

    /// The {u32 kind, u32 length, body} entries of an appended session file (`.exec`,
    /// `.files`) whose bodies begin with 8 bytes (a tsc, a lock id), up to the first
    /// entry that does not fit.
    static func appendedEntries(path: String) -> [(kind: UInt32, word: UInt64, rest: ArraySlice<UInt8>)] {
        guard let data = sessionFile(path) else { return [] }
        let bytes = [UInt8](data)
        var entries: [(kind: UInt32, word: UInt64, rest: ArraySlice<UInt8>)] = []
        var offset = 0
        while offset + 16 <= bytes.count {
            let kind = bytes[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) }
            let length = Int(bytes[(offset + 4)..<(offset + 8)].reversed().reduce(0) { $0 << 8 | UInt32($1) })
            let end = offset + 8 + length
            guard length >= 8, end <= bytes.count else { break }
            let word = bytes[(offset + 8)..<(offset + 16)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
            entries.append((kind, word, bytes[(offset + 16)..<end]))
            offset = end
        }
        return entries
    }

    /// Entries {u32 kind, u32 length, u64 tsc, path NUL, argv NUL...}.
    private static func readExecNotes(path: String) -> [SessionContents.ExecNote] {
        appendedEntries(path: path).filter { $0.kind == UInt32(GTRACE_META_EXEC.rawValue) }.map { entry in
            var parts = entry.rest.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if parts.last == "" { parts.removeLast() }
            return .init(tsc: entry.word, path: parts.first ?? "", arguments: Array(parts.dropFirst()))
        }
    }

    /// Entries {u32 kind, u32 length, u64 lock id, path NUL} (GTRACE_META_FILE_LOCK).
    static func readFileLockNames(path: String) -> [(UInt64, String)] {
        appendedEntries(path: path).filter { $0.kind == UInt32(GTRACE_META_FILE_LOCK.rawValue) }.map {
            ($0.word, String(decoding: $0.rest.prefix { $0 != 0 }, as: UTF8.self))
        }
    }

    private static func readMeta(path: String, key: SessionContents.ImageKey, warnings: inout [String]) -> SessionContents.Image {
        var image = SessionContents.Image(key: key)
        guard let data = sessionFile(path), data.count >= 8 else {
            warnings.append("\(path): process meta file unreadable or empty")
            return image
        }
        let bytes = [UInt8](data)
        var offset = 8
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
        while offset + 8 <= bytes.count {
            let kind = u32(offset)
            let length = Int(u32(offset + 4))
            let start = offset + 8
            guard length >= 0, start + length <= bytes.count else { break }
            let body = Array(bytes[start..<(start + length)])
            switch kind {
            case UInt32(GTRACE_META_PID.rawValue) where length >= 8:
                image.ppid = Int32(bitPattern: u32(start + 4))
            case UInt32(GTRACE_META_EXE.rawValue):
                image.executable = String(decoding: body, as: UTF8.self)
            case UInt32(GTRACE_META_ARGV.rawValue):
                var parts = body.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
                if parts.last == "" { parts.removeLast() }
                image.arguments = parts
            case UInt32(GTRACE_META_START_TSC.rawValue) where length >= 8:
                image.startTSC = u64(start)
            default:
                break
            }
            offset = start + length
        }
        return image
    }
}
