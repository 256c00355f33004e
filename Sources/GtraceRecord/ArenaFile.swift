import CGtraceFormat
import CGtraceSystem
import GtraceFormat

/// An arena of threads' first chunks, `<pid>.<image>.<n>.arena` (arena.c,
/// gtrace_format.h): slots of `slotBytes`, each claimed one laid out as a
/// chunk file (header, then records), the unclaimed ones zeros.
enum ArenaFile {
    static let slotBytes = Int(GTRACE_ARENA_SLOT_BYTES)

    /// The process image of an arena file's name.
    static func image(ofName name: String) -> SessionContents.ImageKey? {
        let parts = name.split(separator: ".")
        guard parts.count == 4, parts[3] == "arena", let pid = Int32(parts[0]), let image = Int(parts[1]),
              Int(parts[2]) != nil else { return nil }
        return SessionContents.ImageKey(pid: pid, image: image)
    }

    /// The claimed slots of an arena of `image`: the thread of each, by slot index.
    /// A slot counts once its header is whole (its magic, stored last, is there)
    /// and names this image and chunk 0.
    static func slots(in file: MappedFile, image: SessionContents.ImageKey) -> [(tid: Int32, index: Int)] {
        let bytes = file.bytes
        let capacity = UInt64((slotBytes - MemoryLayout<gtrace_buffer_header>.size) / MemoryLayout<gtrace_raw_record>.size)
        var found: [(tid: Int32, index: Int)] = []
        for index in 0..<bytes.count / slotBytes {
            let header = bytes.loadUnaligned(fromByteOffset: index * slotBytes, as: gtrace_buffer_header.self)
            guard withUnsafeBytes(of: header.magic, { $0.elementsEqual(GTRACE_BUFFER_MAGIC.utf8 + [0]) }) else { continue }
            gtrace_acquire_fence()
            let whole = bytes.loadUnaligned(fromByteOffset: index * slotBytes, as: gtrace_buffer_header.self)
            guard whole.version == GTRACE_BUFFER_VERSION, whole.record_size == UInt32(MemoryLayout<gtrace_raw_record>.size),
                  Int32(bitPattern: whole.pid) == image.pid, Int(whole.image) == image.image, whole.chunk == 0,
                  whole.capacity == capacity else { continue }
            found.append((Int32(bitPattern: whole.tid), index))
        }
        return found
    }

    /// Slot `index` of `file` as a chunk of its own.
    static func chunk(in file: MappedFile, index: Int) -> MappedFile? {
        MappedFile(slice: file, offset: index * slotBytes, count: slotBytes)
    }

    /// A slot's name where chunks are named by path (`SessionReader.read`'s `mapped`).
    static func slotPath(_ path: String, index: Int) -> String { "\(path)#\(index)" }
}
