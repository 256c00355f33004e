import CGtraceFormat
import CGtraceSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keeps spare buffer chunks, with their pages already allocated, in the
/// session directory while the command runs (see "chunk pool" in
/// gtrace_format.h). Allocating tmpfs pages is the largest cost of recording
/// a busy thread; done here, it runs in the recorder instead of the target.
final class ChunkPool: @unchecked Sendable {
    static let chunkBytes = 2 << 20

    private let directory: String
    private let control: UnsafeMutablePointer<gtrace_pool_control>
    private var spare = 2
    private let maximumSpare = 64
    private let stopLock = NSLock()
    private var stopped = false
    private var thread: Thread?

    /// Creates `pool.ctl` and `pool/` in `session`; nil when that fails (recording then works without a pool).
    init?(session: String) {
        directory = session + "/" + GTRACE_POOL_DIRECTORY
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
        control.pointee.chunk_bytes = UInt64(Self.chunkBytes)
        withUnsafeMutableBytes(of: &control.pointee.magic) { magic in
            for (i, byte) in GTRACE_POOL_MAGIC.utf8.prefix(7).enumerated() { magic[i] = byte }
        }
    }

    deinit {
        munmap(control, MemoryLayout<gtrace_pool_control>.size)
    }

    /// Chunks the runtimes had to allocate themselves (the pool was empty).
    var fallbacks: UInt64 { gtrace_load_acquire_u64(&control.pointee.fallbacks) }
    /// Chunks taken from the pool.
    var claimed: UInt64 { gtrace_load_acquire_u64(&control.pointee.claimed) }

    /// Starts refilling in a background thread until `stop()`.
    func start() {
        let thread = Thread { [self] in
            // Every 2 ms while the runtimes take chunks; backing off to 256 ms
            // while they take none (a sleeping program costs the recorder
            // 4 wake-ups a second, not 500). The spare chunks cover a burst
            // after a pause, and a runtime that finds the pool empty
            // allocates its own chunk (counted in `fallbacks`).
            var interval: UInt32 = 2_000
            var lastClaimed = claimed
            while !isStopped {
                refill()
                let now = claimed
                interval = now != lastClaimed ? 2_000 : min(256_000, interval * 2)
                lastClaimed = now
                usleep(interval)
            }
        }
        thread.name = "gtrace chunk pool"
        self.thread = thread
        thread.start()
    }

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
    private static func clearPages(_ fd: Int32) {
        guard let mapped = mmap(nil, chunkBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0),
              mapped != MAP_FAILED else { return }
        munmap(mapped, chunkBytes)
    }

    /// Tops the pool up to `spare` unclaimed chunks; the spare grows while the
    /// runtimes keep running it dry.
    private func refill() {
        var produced = gtrace_load_acquire_u64(&control.pointee.produced)
        if gtrace_load_acquire_u64(&control.pointee.claimed) >= produced && produced > 0 {
            spare = min(maximumSpare, spare * 2)  // ran dry since the last look
        }
        while !isStopped {
            let claimed = gtrace_load_acquire_u64(&control.pointee.claimed)
            if claimed > produced {
                // Indices handed out while the pool was empty have no file: skip them.
                produced = claimed
                gtrace_store_release_u64(&control.pointee.produced, produced)
            }
            guard produced - claimed < UInt64(spare) else { return }
            let path = "\(directory)/\(produced).chunk"
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return }
            let allocated = posix_fallocate(fd, 0, off_t(Self.chunkBytes))
            if allocated == 0 { Self.clearPages(fd) }
            close(fd)
            guard allocated == 0 else {
                unlink(path)
                return
            }
            produced += 1
            gtrace_store_release_u64(&control.pointee.produced, produced)
        }
    }
}
