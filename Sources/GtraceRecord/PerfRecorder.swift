import CGtraceSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Scheduling from perf context-switch events (docs/RECORDING.md): one ring
/// per CPU, opened on the recorder before the command starts so that every
/// process of the tree inherits it, drained every 20 ms into
/// `<session>/perf/cpu<N>.raw` until `stop()`.
final class PerfRecorder: @unchecked Sendable {
    /// Why perf gave no scheduling data.
    struct Refusal: Error {
        let reason: String
    }

    private struct Ring {
        var cpu: Int
        var fd: Int32
        var map: UnsafeMutableRawPointer
        var mapBytes: UInt64
        var file: Int32
    }

    static let ringPages: UInt32 = 256
    static let drainIntervalMicroseconds: UInt32 = 20_000
    static let directoryName = "perf"

    private var rings: [Ring] = []
    private let buffer: UnsafeMutablePointer<UInt8>
    private let bufferBytes = 1 << 20
    private let stopLock = NSLock()
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)
    /// Signalled by stop(): the drain thread's sleep ends at once.
    private let wake = DispatchSemaphore(value: 0)
    private var running = false

    /// Opens a ring on every CPU; fails when perf is refused (paranoid level,
    /// seccomp, container) or `GTRACE_NO_PERF` is set.
    init(session: String) throws {
        if let off = Foundation.ProcessInfo.processInfo.environment["GTRACE_NO_PERF"], !off.isEmpty, off != "0" {
            throw Refusal(reason: "turned off by GTRACE_NO_PERF")
        }
        let directory = session + "/" + Self.directoryName
        guard mkdir(directory, 0o700) == 0 else { throw Refusal(reason: "cannot create \(directory)") }
        buffer = .allocate(capacity: bufferBytes)
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_CONF)))
        var firstError: Int32 = 0
        for cpu in 0..<max(cpus, 1) {
            var fd: Int32 = -1
            var map: UnsafeMutableRawPointer?
            var bytes: UInt64 = 0
            let error = gtrace_perf_open(Int32(cpu), Self.ringPages, &fd, &map, &bytes)
            if error == ENODEV { continue }  // offline CPU
            guard error == 0, let map else {
                if firstError == 0 { firstError = error }
                continue
            }
            let file = open("\(directory)/cpu\(cpu).raw", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard file >= 0 else {
                gtrace_perf_close(fd, map, bytes)
                continue
            }
            rings.append(Ring(cpu: cpu, fd: fd, map: map, mapBytes: bytes, file: file))
        }
        guard firstError == 0, !rings.isEmpty else {
            closeAll()
            buffer.deallocate()
            throw Refusal(reason: Self.describe(firstError))
        }
    }

    deinit {
        closeAll()
        buffer.deallocate()
    }

    /// Drains in a background thread until `stop()`.
    func start() {
        running = true
        let thread = Thread { [self] in
            // Every 20 ms while the rings fill; backing off to 160 ms while
            // they stay empty (a sleeping program: ~6 wake-ups a second).
            var interval = Int(Self.drainIntervalMicroseconds)
            while !isStopped {
                let drained = drainAll()
                interval = drained > 0 ? Int(Self.drainIntervalMicroseconds) : min(8 * Int(Self.drainIntervalMicroseconds), interval * 2)
                _ = wake.wait(timeout: .now() + .microseconds(interval))
            }
            finished.signal()
        }
        thread.name = "gtrace perf drain"
        thread.start()
    }

    /// Stops the drain thread, drains what is left and closes the rings.
    func stop() {
        stopLock.lock()
        stopped = true
        stopLock.unlock()
        wake.signal()
        if running { finished.wait() }
        drainAll()
        closeAll()
    }

    private var isStopped: Bool {
        stopLock.lock()
        defer { stopLock.unlock() }
        return stopped
    }

    /// Copies what the rings hold to their files; returns the bytes copied.
    @discardableResult
    private func drainAll() -> UInt64 {
        var total: UInt64 = 0
        for ring in rings {
            while true {
                let got = gtrace_perf_drain(ring.map, buffer, UInt64(bufferBytes))
                if got == 0 { break }
                total += got
                var offset = 0
                while offset < Int(got) {
                    let written = write(ring.file, buffer + offset, Int(got) - offset)
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { break }
                    offset += written
                }
                if got < UInt64(bufferBytes) { break }
            }
        }
        return total
    }

    private func closeAll() {
        for ring in rings {
            gtrace_perf_close(ring.fd, ring.map, ring.mapBytes)
            close(ring.file)
        }
        rings.removeAll()
    }

    private static func describe(_ error: Int32) -> String {
        let paranoid = (try? String(contentsOfFile: "/proc/sys/kernel/perf_event_paranoid", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        switch error {
        case EACCES, EPERM: return "perf_event_open refused (perf_event_paranoid=\(paranoid))"
        case ENOSYS: return "perf_event_open not available (seccomp or kernel)"
        default: return "perf_event_open failed: \(String(cString: strerror(error)))"
        }
    }
}
