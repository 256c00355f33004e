import GtraceFormat

/// What the holders of each lock waited for while they held it: the GIL (in a
/// CPython process, a thread that holds a Python lock loses the GIL to other
/// threads and waits to get it back, the lock still held) and blocking calls
/// (sleep, I/O). Rule 2b's sentence says which, instead of guessing
/// (docs/METRICS.md, "Locks").
public struct HolderWaits: Sendable, Codable, Equatable {
    /// Time a holder of the lock spent waiting for its process's GIL, summed over holders.
    public var gilNanoseconds: UInt64 = 0
    /// Time a holder spent in recorded blocking calls.
    public var blockedNanoseconds: UInt64 = 0
    /// The same by call ("waitpid", "read"): what the sentence names (flock(1) holds its
    /// lock while it waits for its command, not in a sleep or I/O).
    public var blockedByCall: [String: UInt64] = [:]
}

struct HolderWaitsAccumulator {
    private let gilLocks: LockSet
    /// Per thread: the locks it holds (with its acquisition count), and the start of its
    /// current GIL wait and blocking call.
    private struct ThreadState {
        var held: [(lock: Int, count: Int)] = []
        /// When the wait began, and the locks held then (a lock taken during the call, as
        /// `sem_wait` takes the one it waits for, was not held across it).
        var gilWaitSince: (time: UInt64, locks: [Int])?
        var blockedSince: (time: UInt64, locks: [Int])?
        var blockedCall = ""
    }
    private var threads: [ThreadState]
    /// The thread that last took each lock: when another takes it, the first holds it no
    /// more (a lock it never released itself: a signal, or the address of a freed lock
    /// reused by another, which has the same row).
    private var holder: [Int]  // by lock index; -1: none
    private(set) var waits: [Int: HolderWaits] = [:]

    init(tables: TraceTables) {
        gilLocks = LockSet(tables.gils.compactMap(\.lock))
        threads = Array(repeating: ThreadState(), count: tables.threads.count)
        holder = Array(repeating: -1, count: tables.locks.count)
    }

    mutating func consume(_ e: TraceEvent) {
        let t = e.thread
        guard threads.indices.contains(t) else { return }
        switch e.kind {
        case let .lockWait(lock, _) where gilLocks.contains(lock):
            if !threads[t].held.isEmpty { threads[t].gilWaitSince = (e.time, threads[t].held.map(\.lock)) }
        case let .lockWait(lock, _):
            // A thread that waits for a lock it holds uses it as a signal (a Condition's
            // waiter lock, released by the notifier): it holds it no more.
            threads[t].held.removeAll { $0.lock == lock }
        case let .lockAcquire(lock, _), let .lockAcquired(lock, _):
            if gilLocks.contains(lock) {
                if let since = threads[t].gilWaitSince {
                    threads[t].gilWaitSince = nil
                    add(thread: t, since) { $0.gilNanoseconds = $0.gilNanoseconds.adding(saturating: e.time &- since.time) }
                }
            } else if let i = threads[t].held.firstIndex(where: { $0.lock == lock }) {
                threads[t].held[i].count += 1
            } else {
                if holder.indices.contains(lock) {
                    let previous = holder[lock]
                    if previous != t, threads.indices.contains(previous) { threads[previous].held.removeAll { $0.lock == lock } }
                    holder[lock] = t
                }
                threads[t].held.append((lock, 1))
            }
        case let .lockRelease(lock, _) where !gilLocks.contains(lock):
            guard let i = threads[t].held.firstIndex(where: { $0.lock == lock }) else { break }
            threads[t].held[i].count -= 1
            if threads[t].held[i].count <= 0 { threads[t].held.remove(at: i) }
        case let .blockBegin(call, _, _):
            if !threads[t].held.isEmpty {
                threads[t].blockedSince = (e.time, threads[t].held.map(\.lock))
                threads[t].blockedCall = call.name
            }
        case .blockEnd:
            if let since = threads[t].blockedSince {
                threads[t].blockedSince = nil
                let call = threads[t].blockedCall, duration = e.time &- since.time
                add(thread: t, since) {
                    $0.blockedNanoseconds = $0.blockedNanoseconds.adding(saturating: duration)
                    $0.blockedByCall[call] = ($0.blockedByCall[call] ?? 0).adding(saturating: duration)
                }
            }
        default:
            break
        }
    }

    /// Adds to the locks held both when the wait began and now.
    private mutating func add(thread t: Int, _ since: (time: UInt64, locks: [Int]), _ into: (inout HolderWaits) -> Void) {
        for lock in since.locks where threads[t].held.contains(where: { $0.lock == lock }) { into(&waits[lock, default: HolderWaits()]) }
    }
}
