/// Timer threads, for `ReplayBuilder`: a thread that waits on a condition with a
/// timeout again and again (HotSpot's WatcherThread every 50 ms, a C flusher with
/// `pthread_cond_timedwait`) until another thread signals it to stop, and then ends.
///
/// Each timeout is a delay in the replay, so the chain of them kept the timer thread
/// alive until the recorded moment of the stop signal in every what-if, and a faster
/// what-if could end no sooner than the recording: every Java program's "more cores"
/// was 1.0× (4 threads computing on 2 cores: 188 ms predicted on 4 cores against 200).
/// The stop signal would have ended whichever timed wait the thread was in, so the
/// timeouts before it (and the short work between them) become a wait for that signal:
/// the replay ends the thread when the signaller gets there, as the program would.
/// A Python timer (`while not stop.wait(0.02):`) waits on a new waiter lock each time:
/// its Python lock waits count as one condition, `pythonLocks`.
///
/// A stop that comes between two waits (while the timer waited for the GIL after a
/// timeout: one recording in three of `py_heartbeat.py` on one core) posts no waiter;
/// the timer finds the flag set when it next takes the lock that guards it (the
/// Event's condition lock, a C timer's mutex), last let go by the stopping thread.
/// That take, after the last timeout began and followed by the thread's end, stands
/// for the signal: the last timeout becomes a wait for that release.
struct TimerWaits {
    static let pythonLocks = -1

    /// Per thread, its waits that timed out: the delay's operation index, the condition
    /// and when the wait began.
    private var timedOut: [[(op: Int, condition: Int, began: UInt64)]]
    /// Per thread, its last wait that another thread's signal ended: the operation index
    /// of the wait for the signaller, and the condition.
    private var lastSignalled: [(op: Int, condition: Int)?]
    /// Per thread, its last take of a lock that another thread let go after the thread's
    /// last timed wait began: the take's operation index and that release.
    private var lastTakeAfterRelease: [(op: Int, release: ReplayBuilder.Point)?]
    /// Per thread, the locks it took since its last timeout, and between the two before:
    /// the flag's lock is one the timer takes around each wait (not the GIL).
    private var takenSinceTimeout: [Set<Int>]
    private var takenBetweenTimeouts: [Set<Int>]

    /// The work between two timeouts, at most this share of their time: a timer's few
    /// microseconds, not a worker that polls with a timeout between pieces of work.
    static let workShare = 0.1
    /// At most this much work after the stop signal: the thread ends.
    static let tailNanoseconds: UInt64 = 1_000_000

    init(threads: Int) {
        timedOut = Array(repeating: [], count: threads)
        lastSignalled = Array(repeating: nil, count: threads)
        lastTakeAfterRelease = Array(repeating: nil, count: threads)
        takenSinceTimeout = Array(repeating: [], count: threads)
        takenBetweenTimeouts = Array(repeating: [], count: threads)
    }

    mutating func timedOut(_ t: Int, condition: Int, op: Int, began: UInt64) {
        guard timedOut[t].last?.op != op else { return }  // (a merged delay keeps its index)
        timedOut[t].append((op, condition, began))
        (takenBetweenTimeouts[t], takenSinceTimeout[t]) = (takenSinceTimeout[t], [])
    }

    /// Thread `t` takes `lock` (not a GIL) at operation `op`, which `release` let go last.
    mutating func took(_ t: Int, lock: Int, op: Int, release: ReplayBuilder.Point?) {
        takenSinceTimeout[t].insert(lock)
        guard let release, release.thread != t, let last = timedOut[t].last, op > last.op, release.time >= last.began,
              takenBetweenTimeouts[t].contains(lock) else { return }
        lastTakeAfterRelease[t] = (op, release)
    }

    mutating func signalled(_ t: Int, condition: Int, op: Int) {
        lastSignalled[t] = (op, condition)
    }

    /// Replaces each timer thread's run of timeouts before its stop signal with
    /// operations that take no time (indices stay: other threads wait for op counts).
    func shorten(_ threads: inout [ReplayProgram.Thread]) {
        for t in threads.indices {
            if let signal = lastSignalled[t], threads[t].ops.indices.contains(signal.op), case .waitFor = threads[t].ops[signal.op],
               endsAfter(threads[t].ops, from: signal.op + 1),
               let run = run(threads[t].ops, before: signal.op, timeouts: timeoutOps(t, on: signal.condition), balanced: true) {
                // (A Python lock's token operations stay: they take no time, and the scenario
                // without the GIL counts them.)
                for k in run.first..<signal.op where !threads[t].ops[k].isToken { threads[t].ops[k] = .compute(0) }
            } else if let take = lastTakeAfterRelease[t], lastSignalled[t].map({ $0.op < take.op }) ?? true,
                      endsAfter(threads[t].ops, from: take.op), let last = timedOut[t].last,
                      let run = run(threads[t].ops, before: take.op, timeouts: timeoutOps(t, on: last.condition), balanced: false),
                      run.last == last.op, !waitsOn(t, after: run.last, in: threads[take.release.thread].ops.prefix(take.release.ops)) {
                for k in run.first..<run.last where !threads[t].ops[k].isToken { threads[t].ops[k] = .compute(0) }
                threads[t].ops[run.last] = .waitFor(thread: take.release.thread, ops: take.release.ops)
            }
        }
    }

    /// The operation indices of thread `t`'s timeouts on `condition`.
    private func timeoutOps(_ t: Int, on condition: Int) -> Set<Int> {
        Set(timedOut[t].filter { $0.condition == condition }.map(\.op))
    }

    /// After `start` the thread takes and lets go locks and does at most 1 ms of work.
    private func endsAfter(_ ops: [ReplayProgram.Op], from start: Int) -> Bool {
        guard start <= ops.count else { return false }
        var tailWork: UInt64 = 0
        for op in ops[start...] {
            switch op {
            case let .compute(ns): tailWork = tailWork.adding(saturating: ns)
            case .acquire, .acquireShared, .release, .foreign, .take, .post: break
            default: return false
            }
        }
        return tailWork <= Self.tailNanoseconds
    }

    /// Whether the stopping thread's operations before its release wait for thread `t`
    /// past `op`: waiting there for that release would deadlock the replay.
    private func waitsOn(_ t: Int, after op: Int, in ops: ArraySlice<ReplayProgram.Op>) -> Bool {
        ops.contains { if case let .waitFor(thread, n, _) = $0 { return thread == t && n > op } else { return false } }
    }

    /// The run of timeouts (on one condition: `timeouts`) that ends before operation
    /// `end`: its first and last timeouts; nil when there is none. Every lock taken from
    /// the first timeout to `end` (`toEnd`), or to the last timeout, is let go there (the
    /// condition's mutex, taken back after each wait), and the timer did little but wait.
    private func run(_ ops: [ReplayProgram.Op], before end: Int, timeouts timeoutOps: Set<Int>,
                     balanced toEnd: Bool) -> (first: Int, last: Int)? {
        var first: Int?, last: Int?
        var waited: UInt64 = 0, work: UInt64 = 0, workBeforeFirst: UInt64 = 0
        var balance: [Int: Int] = [:], balanceAtFirst: [Int: Int] = [:], balanceAtLast: [Int: Int] = [:]
        var k = end - 1
        scan: while k >= 0 {
            switch ops[k] {
            case let .delay(ns) where timeoutOps.contains(k):
                first = k
                if last == nil { (last, balanceAtLast) = (k, balance) }
                waited = waited.adding(saturating: ns)
                work = workBeforeFirst
                balanceAtFirst = balance
            // (A short delay that is no timeout, a GIL wait after a forced switch of 62 µs,
            // counts as work: time the timer was not in its timed wait.)
            case let .compute(ns), let .delay(ns): workBeforeFirst = workBeforeFirst.adding(saturating: ns)
            case let .acquire(lock), let .acquireShared(lock): balance[lock, default: 0] += 1
            case let .release(lock): balance[lock, default: 0] -= 1
            case .foreign, .take, .post: break
            default: break scan
            }
            k -= 1
        }
        guard let first, let last, Double(work) <= Self.workShare * Double(waited),
              balanceAtFirst.allSatisfy({ $0.value == (toEnd ? 0 : balanceAtLast[$0.key] ?? 0) }) else { return nil }
        return (first, last)
    }
}
