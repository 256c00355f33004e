import CGtraceFormat
import CGtraceSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keeps spare buffer chunks of every size a thread's chunks take after its
/// first (32 KiB to 2 MiB), with their pages already allocated and written, in the session
/// directory while the command runs (see "chunk pool" in gtrace_format.h).
/// Allocating and zeroing tmpfs pages is the largest cost of setting up a
/// thread's buffers; done here, it runs in the recorder instead of the target.
final class ChunkPool: @unchecked Sendable {
    /// Class i holds chunks of `smallestBytes << i`. A thread's first chunk (16 KiB) is
    /// not pooled: the thread creates it faster than it renames one from the pool
    /// (300 `/bin/true` from a shell: 0.26 s traced with it pooled, 0.24 without;
    /// 50 threads starting at once rename into one directory).
    static let smallestBytes = 32 << 10
    static let classCount = 7
    static func chunkBytes(_ sizeClass: Int) -> Int { smallestBytes << sizeClass }

    private let directory: String
    private let control: UnsafeMutablePointer<gtrace_pool_control>
    /// Per class: unclaimed chunks to keep, and the most it grows to (a burst of new
    /// threads takes many small chunks at once; a busy thread, 2 MiB ones).
    private var spare: [Int]
    private let maximumSpare: [Int]
    private let stopLock = NSLock()
    private var stopped = false
    private var thread: Thread?

    /// Creates `pool.ctl` and `pool/` in `session`; nil when that fails (recording then works without a pool).
    init?(session: String) {
        directory = session + "/" + GTRACE_POOL_DIRECTORY
        spare = (0..<Self.classCount).map { $0 < 2 ? 4 : 2 }
        maximumSpare = (0..<Self.classCount).map { max(64, 256 >> $0) }
        guard mkdir(directory, 0o700) == 0 else { return nil }
        let fd = open(session + "/" + GTRACE_POOL_CONTROL, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let size = MemoryLayout<gtrace_pool_control>.size
        guard ftruncate(fd, off_t(size)) == 0,
              let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            return nil
        }
        control = mapped.bindMemory(to: gtrace_pool_control.self, capacity: 1)
        control.pointee.classes = UInt64(Self.classCount)
        withUnsafeMutableBytes(of: &control.pointee.cls) { raw in
            let classes = raw.bindMemory(to: gtrace_pool_class.self)
            for i in 0..<Self.classCount { classes[i].chunk_bytes = UInt64(Self.chunkBytes(i)) }
        }
        withUnsafeMutableBytes(of: &control.pointee.magic) { magic in
            for (i, byte) in GTRACE_POOL_MAGIC.utf8.prefix(7).enumerated() { magic[i] = byte }
        }
    }

    deinit {
        munmap(control, MemoryLayout<gtrace_pool_control>.size)
    }

    /// Class `i`'s counters in the shared control block.
    private func sizeClass(_ i: Int) -> UnsafeMutablePointer<gtrace_pool_class> {
        UnsafeMutableRawPointer(control).advanced(by: MemoryLayout<gtrace_pool_control>.offset(of: \gtrace_pool_control.cls)!)
            .assumingMemoryBound(to: gtrace_pool_class.self).advanced(by: i)
    }

    /// Chunks the runtimes had to allocate themselves (the pool had none of their size).
    var fallbacks: UInt64 { (0..<Self.classCount).reduce(0) { $0 + gtrace_load_acquire_u64(&sizeClass($1).pointee.fallbacks) } }
    /// Chunks taken from the pool: indices handed out that had a file.
    var claimed: UInt64 { claimedIndices - fallbacks }

    /// Starts refilling in a background thread until `stop()`.
    func start() {
        let thread = Thread { [self] in
            // Every 2 ms while the runtimes take chunks; backing off to 256 ms
            // while they take none (a sleeping program costs the recorder
            // 4 wake-ups a second, not 500). The spare chunks cover a burst
            // after a pause, and a runtime that finds the pool empty
            // allocates its own chunk (counted in `fallbacks`).
            var interval: UInt32 = 2_000
            var lastClaimed = claimedIndices
            while !isStopped {
                for i in (0..<Self.classCount).reversed() where !isStopped { refill(i) }
                let now = claimedIndices
                interval = now != lastClaimed ? 2_000 : min(256_000, interval * 2)
                lastClaimed = now
                usleep(interval)
            }
        }
        thread.name = "gtrace chunk pool"
        self.thread = thread
        thread.start()
    }

    /// Indices handed out over all classes, including those the pool had no file for.
    private var claimedIndices: UInt64 { (0..<Self.classCount).reduce(0) { $0 + gtrace_load_acquire_u64(&sizeClass($1).pointee.claimed) } }

    func stop() {
        stopLock.lock()
        stopped = true
        stopLock.unlock()
    }

    private var isStopped: Bool {
        stopLock.lock()
        defer { stopLock.unlock() }
        return stopped
    }

    /// Writes the chunk's pages once, here: tmpfs's fallocate reserves pages but
    /// leaves them to be zeroed at their first fault, which would be the
    /// writer's `MAP_POPULATE` in the traced thread (629 µs per 2 MiB chunk
    /// there against 137 µs for pages already written, docs/BENCHMARKS.md).
    private static func clearPages(_ fd: Int32, bytes: Int) {
        guard let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0),
              mapped != MAP_FAILED else { return }
        munmap(mapped, bytes)
    }

    /// Tops class `i` up to its spare unclaimed chunks; the spare grows while the
    /// runtimes keep running it dry.
    private func refill(_ i: Int) {
        let c = sizeClass(i)
        var produced = gtrace_load_acquire_u64(&c.pointee.produced)
        if gtrace_load_acquire_u64(&c.pointee.claimed) >= produced && produced > 0 {
            spare[i] = min(maximumSpare[i], spare[i] * 2)  // ran dry since the last look
        }
        let bytes = Self.chunkBytes(i)
        while !isStopped {
            let claimed = gtrace_load_acquire_u64(&c.pointee.claimed)
            if claimed > produced {
                // Indices handed out while the pool was empty have no file: skip them.
                produced = claimed
                gtrace_store_release_u64(&c.pointee.produced, produced)
            }
            guard produced - claimed < UInt64(spare[i]) else { return }
            // Writing a chunk's pages here takes 2.7× as long as only allocating them (1.2 ms
            // against 0.44 per 2 MiB): while a thread outruns the pool (a lock loop writes
            // 2 MiB every 1.5 ms), it gets chunks sooner unwritten.
            let clear = produced - claimed >= UInt64(spare[i] / 2)
            let path = "\(directory)/\(i).\(produced).chunk"
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return }
            let allocated = posix_fallocate(fd, 0, off_t(bytes))
            if allocated == 0, clear { Self.clearPages(fd, bytes: bytes) }
            close(fd)
            guard allocated == 0 else {
                unlink(path)
                return
            }
            produced += 1
            gtrace_store_release_u64(&c.pointee.produced, produced)
        }
    }
}
